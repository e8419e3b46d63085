"""Corpus building and loading: files → codec text pieces → token files + vocabulary.

Layout of a corpus folder (like nanoGPT's train.bin/val.bin):
    corpus.json   codec, options, counts, the build report
    vocab.json    the characters, in token-id order
    train.bin     token ids (uint8 if the vocabulary fits, else uint16), memory-mapped for training
    valid.bin     the held-out pieces, chosen by a hash of each piece's text (stable, order-free)

Both streams start with the codec's separator and have it after every piece, so the model learns
where pieces start and end. Building streams pieces to disk: memory does not grow with the corpus.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from rnnmusic import __version__
from rnnmusic.codecs import Codec, get_codec
from rnnmusic.errors import CodecError, CorpusError

FORMAT_VERSION = 1
CHUNK_CHARS = 1 << 22  # characters per conversion chunk in the second pass


@dataclass
class BuildReport:
    files: int = 0
    files_read: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # path -> reason
    pieces: int = 0
    duplicates: int = 0
    pieces_skipped: dict[str, int] = field(default_factory=dict)  # reason -> pieces left out
    train_pieces: int = 0
    valid_pieces: int = 0
    train_tokens: int = 0
    valid_tokens: int = 0
    vocab_size: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        lines = [
            f"read {self.files_read} of {self.files} files: {self.pieces} pieces"
            + (f" ({self.duplicates} duplicates dropped)" if self.duplicates else ""),
            f"train {self.train_pieces} pieces / {self.train_tokens:,} tokens, "
            f"validation {self.valid_pieces} pieces / {self.valid_tokens:,} tokens, "
            f"vocabulary {self.vocab_size} characters, {self.seconds:.1f} s",
        ]
        if self.pieces_skipped:
            reasons = ", ".join(f"{n} × {r}" for r, n in self.pieces_skipped.items())
            lines.append(
                f"left out {sum(self.pieces_skipped.values())} pieces inside files: {reasons}"
            )
        if self.skipped:
            lines.append(f"skipped {len(self.skipped)} files:")
            by_reason = Counter(_reason_kind(r) for r in self.skipped.values())
            for reason, count in by_reason.most_common():
                lines.append(f"  {count} × {reason}")
            for path, reason in list(self.skipped.items())[:10]:
                lines.append(f"  {path}: {reason}")
            if len(self.skipped) > 10:
                lines.append(f"  … and {len(self.skipped) - 10} more (see corpus.json)")
        return "\n".join(lines)


def _reason_kind(reason: str) -> str:
    """Group reasons like 'truncated (needs 12 more bytes)' under 'truncated'."""
    return reason.split(" (")[0].split(": ")[0]


@dataclass
class Corpus:
    """A built corpus on disk; token arrays are memory-mapped, so opening one is instant."""

    path: Path
    meta: dict[str, Any]
    vocab: list[str]

    @property
    def codec(self) -> Codec:
        return get_codec(self.meta["codec"], **self.meta["codec_options"])

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.meta["dtype"])

    def tokens(self, split: str) -> np.ndarray:
        path = self.path / f"{split}.bin"
        expected = self.meta[f"{split}_tokens"]
        try:
            size = path.stat().st_size
        except OSError:
            raise CorpusError(f"corpus {self.path} lacks {path.name}; build it again") from None
        if size != expected * self.dtype.itemsize:
            raise CorpusError(
                f"{path} holds {size} bytes, not the {expected} tokens corpus.json records; "
                "the corpus is damaged, build it again"
            )
        if expected == 0:
            return np.zeros(0, dtype=self.dtype)
        return np.memmap(path, dtype=self.dtype, mode="r")

    def text(self, split: str) -> str:
        """The split as text (for n-gram baselines and copy checks on small corpora)."""
        table = np.array(self.vocab, dtype=object)
        return "".join(table[np.asarray(self.tokens(split))])

    @classmethod
    def load(cls, path: str | Path) -> Corpus:
        path = Path(path)
        try:
            meta = json.loads((path / "corpus.json").read_text(encoding="utf-8"))
            vocab = json.loads((path / "vocab.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CorpusError(
                f"{path} is not a built corpus (no corpus.json/vocab.json); "
                "build one with `rnnmusic corpus build`"
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise CorpusError(
                f"{path}: corpus.json or vocab.json is damaged; build it again"
            ) from None
        if meta.get("format_version") != FORMAT_VERSION:
            raise CorpusError(
                f"{path} was built by another rnnmusic version (format "
                f"{meta.get('format_version')}, this one reads {FORMAT_VERSION}); build it again"
            )
        return cls(path=path, meta=meta, vocab=vocab)


def is_corpus_dir(path: str | Path) -> bool:
    return (Path(path) / "corpus.json").is_file()


# -- finding input files ------------------------------------------------------------------------


def resolve_files(source: str | Path, codec: Codec) -> tuple[list[Path], str]:
    """Input files for a source (built-in name, folder or file) and a description of it."""
    from rnnmusic.sources import get_source

    path = Path(source)
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and p.suffix.lower() in codec.extensions and not p.name.startswith(".")
        )
        if not files:
            raise CorpusError(
                f"folder {path} holds no {'/'.join(codec.extensions)} files for the "
                f"{codec.name} codec"
            )
        return files, str(path.resolve())
    if path.is_file():
        return [path], str(path.resolve())
    if path.exists():
        raise CorpusError(f"{path} is neither a regular file nor a folder")
    built_in = get_source(str(source))
    if codec.name not in built_in.codecs:
        raise CorpusError(
            f"built-in corpus {built_in.name!r} is for the {'/'.join(built_in.codecs)} codec, "
            f"not {codec.name}"
        )
    return built_in.files(), f"built-in:{built_in.name}"


# -- encoding (possibly in worker processes) ----------------------------------------------------

_worker_codec: Codec | None = None


def _init_worker(codec: Codec) -> None:
    global _worker_codec
    _worker_codec = codec


def _encode_one(path: Path) -> tuple[Path, list[str] | None, str | None]:
    assert _worker_codec is not None
    try:
        return path, _worker_codec.encode_file(path), None
    except CodecError as exc:
        return path, None, exc.reason
    except MemoryError:
        return path, None, "too large to encode in memory"
    except RecursionError:
        return path, None, "nested too deeply to read"
    except Exception as exc:  # a library choking on a hostile file must not stop the batch
        return path, None, f"unreadable ({type(exc).__name__}: {str(exc)[:200]})"


def encode_files(
    files: list[Path], codec: Codec, jobs: int | None = None, progress: bool = True
) -> Iterator[tuple[Path, list[str] | None, str | None]]:
    """(path, pieces, None) or (path, None, reason) per file, in input order whatever `jobs` is."""
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(files)))
    bar = tqdm(total=len(files), desc="encoding", unit="file", disable=not progress, leave=False)
    try:
        if jobs == 1:
            _init_worker(codec)
            for path in files:
                yield _encode_one(path)
                bar.update()
            return
        ctx = multiprocessing.get_context("spawn" if os.name != "posix" else "fork")
        chunksize = max(1, min(16, len(files) // (jobs * 8)))
        with ctx.Pool(jobs, initializer=_init_worker, initargs=(codec,)) as pool:
            for result in pool.imap(_encode_one, files, chunksize=chunksize):
                yield result
                bar.update()
    finally:
        bar.close()


# -- building -----------------------------------------------------------------------------------


def _is_valid_piece(digest: bytes, valid_fraction: float) -> bool:
    return int.from_bytes(digest[:8], "big") / 2**64 < valid_fraction


def build_corpus(
    source: str | Path,
    codec: Codec,
    out_dir: str | Path,
    *,
    jobs: int | None = None,
    valid_fraction: float = 0.05,
    dedupe: bool = True,
    progress: bool = True,
) -> Corpus:
    """Encode every file of `source` and write a corpus folder; unreadable files are reported."""
    if not 0.0 < valid_fraction < 0.5:
        raise CorpusError("the validation fraction must lie between 0 and 0.5")
    start = time.perf_counter()
    files, description = resolve_files(source, codec)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    work = out / ".building"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()

    report = BuildReport(files=len(files))
    counts: Counter[str] = Counter(codec.separator)
    seen: set[bytes] = set()
    sep = codec.separator
    streams = {
        split: open(work / f"{split}.txt", "w", encoding="utf-8", newline="")
        for split in ("train", "valid")
    }
    last_train_offset = 0  # lets the last train piece move to validation if it would be empty
    last_train_piece = ""
    try:
        for stream in streams.values():
            stream.write(sep)
        for path, pieces, reason in encode_files(files, codec, jobs, progress):
            if pieces is None:
                report.skipped[str(path)] = reason or "unreadable"
                continue
            report.files_read += 1
            for reason in getattr(pieces, "skipped", ()):
                report.pieces_skipped[reason] = report.pieces_skipped.get(reason, 0) + 1
            for piece in pieces:
                if sep in piece or not piece:
                    continue  # a codec bug would break piece boundaries; never let it in
                digest = hashlib.blake2b(piece.encode("utf-8"), digest_size=16).digest()
                report.pieces += 1
                if dedupe:
                    if digest in seen:
                        report.duplicates += 1
                        continue
                    seen.add(digest)
                counts.update(piece)
                split_key = codec.split_key(piece)
                if split_key != piece:
                    digest = hashlib.blake2b(split_key.encode("utf-8"), digest_size=16).digest()
                if _is_valid_piece(digest, valid_fraction):
                    streams["valid"].write(piece + sep)
                    report.valid_pieces += 1
                else:
                    last_train_offset = streams["train"].tell()
                    last_train_piece = piece
                    streams["train"].write(piece + sep)
                    report.train_pieces += 1
        if report.train_pieces == 0:
            raise CorpusError(_nothing_readable(description, report))
        if report.valid_pieces == 0:
            _move_last_piece_to_valid(streams, sep, last_train_offset, last_train_piece, report)
    except BaseException:
        for stream in streams.values():
            stream.close()
        shutil.rmtree(work, ignore_errors=True)
        raise
    for stream in streams.values():
        stream.close()

    vocab = sorted(counts)
    dtype = np.uint8 if len(vocab) <= 256 else np.uint16
    if len(vocab) > 65536:
        raise CorpusError(f"the corpus uses {len(vocab)} distinct characters; at most 65536 fit")
    cps = np.array([ord(c) for c in vocab], dtype=np.uint32)
    for split in ("train", "valid"):
        n = _text_to_tokens(work / f"{split}.txt", work / f"{split}.bin", cps, dtype)
        setattr(report, f"{split}_tokens", n)
    report.vocab_size = len(vocab)
    report.seconds = time.perf_counter() - start

    meta = {
        "format_version": FORMAT_VERSION,
        "rnnmusic_version": __version__,
        "codec": codec.name,
        "codec_options": codec.options(),
        "source": description,
        "separator": sep,
        "dtype": np.dtype(dtype).name,
        "valid_fraction": valid_fraction,
        "train_tokens": report.train_tokens,
        "valid_tokens": report.valid_tokens,
        "report": report.__dict__,
    }
    (work / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (work / "corpus.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False), "utf-8")
    for name in ("train.bin", "valid.bin", "vocab.json", "corpus.json"):
        os.replace(work / name, out / name)  # corpus.json last: its presence marks a whole corpus
    shutil.rmtree(work, ignore_errors=True)
    return Corpus.load(out)


def _nothing_readable(description: str, report: BuildReport) -> str:
    if report.skipped:
        first_path, first_reason = next(iter(report.skipped.items()))
        return (
            f"no readable pieces in {description}: all {len(report.skipped)} files were skipped "
            f"(e.g. {first_path}: {first_reason})"
        )
    return f"no pieces of music or text in {description}"


def _move_last_piece_to_valid(streams, sep: str, offset: int, piece: str, report: BuildReport):
    """Validation must never be empty: take the last train piece, or split a lone piece."""
    train, valid = streams["train"], streams["valid"]
    train.seek(offset)
    train.truncate()
    if report.train_pieces > 1:
        valid.write(piece + sep)
        report.train_pieces -= 1
        report.valid_pieces += 1
        return
    # one piece only: its tail becomes validation text (a stream, not a separate piece)
    if len(piece) < 20:
        raise CorpusError(
            "the corpus is a single piece too short to hold out validation text; give more input"
        )
    cut = int(len(piece) * 0.9)
    train.write(piece[:cut] + sep)
    valid.write(piece[cut:] + sep)
    report.valid_pieces = 1


def _text_to_tokens(text_path: Path, bin_path: Path, cps: np.ndarray, dtype) -> int:
    """Second pass: characters → ids in chunks, so memory stays flat for any corpus size."""
    total = 0
    with open(text_path, encoding="utf-8", newline="") as src, open(bin_path, "wb") as dst:
        while chunk := src.read(CHUNK_CHARS):
            codes = np.frombuffer(chunk.encode("utf-32-le"), dtype=np.uint32)
            ids = np.searchsorted(cps, codes).astype(dtype)
            ids.tofile(dst)
            total += len(ids)
    return total
