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
import os
import shutil
import time
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rnnmusic import __version__
from rnnmusic.atomic_write import WriteError, reason, write_text
from rnnmusic.bounded_read import read_json
from rnnmusic.codecs import Codec, get_codec
from rnnmusic.encoding_pool import encode_files
from rnnmusic.errors import CodecError, CorpusError
from rnnmusic.profile import CorpusProfile, ProfileBuilder, profile_of

FORMAT_VERSION = 1
CHUNK_CHARS = 1 << 22  # characters per conversion chunk in the second pass
MAX_RECORD_BYTES = 256 * 1024 * 1024  # corpus.json lists skipped files; a huge scrape has many
PROFILE_SCAN_TOKENS = 20_000_000  # an old corpus's profile is worked out from this much text


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
    def codec_name(self) -> str:
        return self.meta["codec"]

    @property
    def codec(self) -> Codec:
        return get_codec(self.meta["codec"], **self.meta["codec_options"])

    @property
    def report(self) -> BuildReport:
        """What the build read, kept and left out (its fields were checked by `load`)."""
        return BuildReport(**self.meta["report"])

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

    @property
    def profile(self) -> CorpusProfile:
        """Settings and sizes of the training pieces; worked out from the training text for
        corpora built before profiles were recorded, or before the codec learned a fact (and
        then recorded, so it is worked out once)."""
        stored = CorpusProfile.from_dict(self.meta.get("profile"))
        current = self.meta.get("profile_version", 1) == self.codec.profile_version
        if stored is not None and current:
            return stored
        profile = self._profile_from_text()
        if "profile" in self.meta:  # a cached corpus from an earlier version: bring it up to date
            meta = {**self.meta, "profile": profile.to_dict()}
            meta["profile_version"] = self.codec.profile_version
            try:
                write_text(
                    self.path / "corpus.json", json.dumps(meta, indent=1, ensure_ascii=False)
                )
                self.meta = meta
            except (OSError, WriteError):
                pass  # a read-only corpus: worked out again next time
        return profile

    def _profile_from_text(self) -> CorpusProfile:
        tokens = self.tokens("train")[:PROFILE_SCAN_TOKENS]
        text = "".join(np.array(self.vocab, dtype=object)[np.asarray(tokens)])
        pieces = self.codec.split_pieces(text)
        if len(tokens) == PROFILE_SCAN_TOKENS and len(pieces) > 1:
            pieces = pieces[:-1]  # the scan may have cut the last piece
        return profile_of(pieces, self.codec)

    def text(self, split: str) -> str:
        """The split as text (for n-gram baselines and copy checks on small corpora)."""
        table = np.array(self.vocab, dtype=object)
        return "".join(table[np.asarray(self.tokens(split))])

    @classmethod
    def load(cls, path: str | Path) -> Corpus:
        path = Path(path)
        try:
            meta = read_json(path / "corpus.json", MAX_RECORD_BYTES, "a corpus record")
            vocab = read_json(path / "vocab.json", MAX_RECORD_BYTES, "a vocabulary")
        except CodecError as exc:
            if "does not exist" in exc.reason:
                raise CorpusError(
                    f"{path} is not a built corpus (no corpus.json/vocab.json); "
                    "build one with `rnnmusic corpus build`"
                ) from None
            raise CorpusError(f"{exc}; the corpus is damaged, build it again") from None
        if not isinstance(meta, dict) or not isinstance(vocab, list):
            raise CorpusError(f"{path}: corpus.json or vocab.json is damaged; build it again")
        if meta.get("format_version") != FORMAT_VERSION:
            raise CorpusError(
                f"{path} was built by another rnnmusic version (format "
                f"{meta.get('format_version')}, this one reads {FORMAT_VERSION}); build it again"
            )
        _check_record(meta, path)
        return cls(path=path, meta=meta, vocab=vocab)


RECORD_TYPES = {  # corpus.json's fields that loading and training read, with their types
    "codec": str,
    "codec_options": dict,
    "dtype": str,
    "train_tokens": int,
    "valid_tokens": int,
    "report": dict,
}


def _check_record(meta: dict[str, Any], path: Path) -> None:
    """A damaged corpus.json is a sentence naming the field, not a KeyError later in training."""
    for key, kind in RECORD_TYPES.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise CorpusError(
                f"{path}/corpus.json: its {key!r} field is missing or damaged; build the corpus "
                "again"
            )
    if meta["dtype"] not in ("uint8", "uint16"):
        raise CorpusError(
            f"{path}/corpus.json: token type {meta['dtype']!r} is not one rnnmusic "
            "writes; build the corpus again"
        )
    try:
        BuildReport(**meta["report"])
    except TypeError:
        raise CorpusError(
            f"{path}/corpus.json: its build report is damaged; build the corpus again"
        ) from None


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


# -- building -----------------------------------------------------------------------------------


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


def _is_valid_piece(digest: bytes, valid_fraction: float) -> bool:
    return int.from_bytes(digest[:8], "big") / 2**64 < valid_fraction


class _SplitWriter:
    """Pass one: every piece goes to its split's text file as it arrives; only an 8-byte
    digest and a length per piece stay in memory (16 bytes, whatever the piece's size)."""

    def __init__(self, path: Path, separator: str):
        self.path, self.separator = path, separator
        self.file = open(path, "w", encoding="utf-8", newline="")
        self.digests = array("Q")
        self.lengths = array("Q")

    def add(self, piece: str, digest: bytes) -> None:
        self.file.write(piece + self.separator)
        self.digests.append(int.from_bytes(digest[:8], "big"))
        self.lengths.append(len(piece) + len(self.separator))

    def close(self) -> None:
        self.file.close()

    def first_occurrences(self) -> np.ndarray:
        """Keep mask: each distinct piece once, where it first appeared."""
        digests = (
            np.frombuffer(self.digests, dtype=np.uint64) if self.digests else np.zeros(0, np.uint64)
        )
        keep = np.zeros(len(digests), dtype=bool)
        keep[np.unique(digests, return_index=True)[1]] = True
        return keep


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
    """Encode every file of `source` and write a corpus folder; unreadable files are reported.

    Two passes, so memory stays flat however large the corpus: pieces stream to per-split text
    files, then duplicates are dropped and characters become token ids chunk by chunk."""
    if not 0.0 < valid_fraction < 0.5:
        raise CorpusError("the validation fraction must lie between 0 and 0.5")
    start = time.perf_counter()
    files, description = resolve_files(source, codec)
    out = Path(out_dir)
    work = out / ".building"
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        report = BuildReport(files=len(files))
        profile = ProfileBuilder()
        writers, chars = _encode_into(
            files, codec, jobs, progress, work, valid_fraction, report, profile
        )
        if report.pieces == 0:
            raise CorpusError(_nothing_readable(description, report))
        vocab = sorted(chars)
        if len(vocab) > 65536:
            raise CorpusError(
                f"the corpus uses {len(vocab)} distinct characters; at most 65536 fit"
            )
        dtype = np.uint8 if len(vocab) <= 256 else np.uint16
        _write_tokens(writers, vocab, dtype, dedupe, work, report)
        report.vocab_size = len(vocab)
        report.seconds = time.perf_counter() - start
        meta = {
            "format_version": FORMAT_VERSION,
            "rnnmusic_version": __version__,
            "codec": codec.name,
            "codec_options": codec.options(),
            "source": description,
            "separator": codec.separator,
            "dtype": np.dtype(dtype).name,
            "valid_fraction": valid_fraction,
            "train_tokens": report.train_tokens,
            "valid_tokens": report.valid_tokens,
            "report": report.__dict__,
            "profile": profile.build().to_dict(),
            "profile_version": codec.profile_version,
        }
        write_text(work / "vocab.json", json.dumps(vocab, ensure_ascii=False))
        write_text(work / "corpus.json", json.dumps(meta, indent=1, ensure_ascii=False))
        (out / "corpus.json").unlink(missing_ok=True)  # no moment where old and new files mix
        for name in ("train.bin", "valid.bin", "vocab.json", "corpus.json"):
            os.replace(work / name, out / name)  # corpus.json last: it marks a whole corpus
    except (OSError, WriteError) as exc:
        shutil.rmtree(work, ignore_errors=True)
        if created:  # nothing half-built is left behind
            shutil.rmtree(out, ignore_errors=True)
        why = reason(exc) if isinstance(exc, OSError) else exc.why
        raise CorpusError(f"could not write the corpus to {out} ({why})") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Corpus.load(out)


def _encode_into(files, codec, jobs, progress, work: Path, valid_fraction: float, report, profile):
    """Pass one: encode the files, stream each piece into its split's text file and note what
    each training piece uses in the profile."""
    sep = codec.separator
    chars: set[str] = set(sep)  # a set, not a Counter: 3× faster on a 200 MB piece
    writers = {split: _SplitWriter(work / f"{split}.txt", sep) for split in ("train", "valid")}
    try:
        for path, pieces, reason in encode_files(files, codec, jobs, progress):
            if pieces is None:
                report.skipped[str(path)] = reason or "unreadable"
                continue
            report.files_read += 1
            for skipped in getattr(pieces, "skipped", ()):
                report.pieces_skipped[skipped] = report.pieces_skipped.get(skipped, 0) + 1
            for piece in pieces:
                if sep in piece or not piece:
                    continue  # a codec bug would break piece boundaries; never let it in
                report.pieces += 1
                chars.update(piece)
                digest = _digest(piece)
                split_key = codec.split_key(piece)
                key_digest = digest if split_key == piece else _digest(split_key)
                split = "valid" if _is_valid_piece(key_digest, valid_fraction) else "train"
                writers[split].add(piece, digest)
                if split == "train":
                    profile.add(piece, codec.piece_facts(piece))
    finally:
        for writer in writers.values():
            writer.close()
    return writers, chars


def _write_tokens(writers, vocab, dtype, dedupe: bool, work: Path, report: BuildReport) -> None:
    """Pass two: drop duplicates, keep validation non-empty, convert characters to token ids."""
    keep = {
        split: w.first_occurrences() if dedupe else np.ones(len(w.digests), dtype=bool)
        for split, w in writers.items()
    }
    report.duplicates = sum(int((~k).sum()) for k in keep.values())
    moved = None  # validation must never be empty: the last train piece moves there
    cut = None  # … or, for a corpus of one piece, the tail of that piece
    kept_train = np.flatnonzero(keep["train"])
    if not keep["valid"].any():
        if len(kept_train) > 1:
            moved = int(kept_train[-1])
            keep["train"][moved] = False
        else:
            cut = int(kept_train[0])
    report.train_pieces = int(keep["train"].sum())
    report.valid_pieces = int(keep["valid"].sum()) + (moved is not None or cut is not None)
    cps = np.array([ord(c) for c in vocab], dtype=np.uint32)
    sep = writers["train"].separator
    with (
        _TokenWriter(work / "train.bin", cps, dtype) as train,
        _TokenWriter(work / "valid.bin", cps, dtype) as valid,
    ):
        train.write(sep)
        valid.write(sep)
        tail = ""
        for index, text in _pieces(writers["train"]):
            if index == cut:
                if len(text) < 20:
                    raise CorpusError(
                        "the corpus is a single piece too short to hold out validation text; "
                        "give more input"
                    )
                head, tail = text[: int(len(text) * 0.9)], text[int(len(text) * 0.9) :]
                train.write(head)
                train.write(sep)
            elif keep["train"][index]:
                train.write(text)
            elif index == moved:
                tail = text
        for index, text in _pieces(writers["valid"]):
            if keep["valid"][index]:
                valid.write(text)
        if tail:
            valid.write(tail)  # ends with the separator the piece was stored with
    report.train_tokens, report.valid_tokens = train.count, valid.count


def _pieces(writer: _SplitWriter) -> Iterator[tuple[int, str]]:
    """Each piece (with its separator) of a split's text file, in order."""
    with open(writer.path, encoding="utf-8", newline="") as src:
        for index, length in enumerate(writer.lengths):
            yield index, src.read(length)


class _TokenWriter:
    """Characters → token ids, buffered into chunks so memory stays flat."""

    def __init__(self, path: Path, cps: np.ndarray, dtype):
        self.path, self.cps, self.dtype = path, cps, dtype
        self.table = None  # code point → token id, when every code point is below 2^16
        if int(cps.max()) < 1 << 16:
            self.table = np.zeros(int(cps.max()) + 1, dtype=dtype)
            self.table[cps] = np.arange(len(cps), dtype=dtype)
        self.buffer: list[str] = []
        self.buffered = 0
        self.count = 0

    def __enter__(self):
        self.file = open(self.path, "wb")
        return self

    def write(self, text: str) -> None:
        if len(text) >= CHUNK_CHARS:  # one huge piece: converted slice by slice, not copied
            self.flush()
            self._convert(text)
            return
        self.buffer.append(text)
        self.buffered += len(text)
        if self.buffered >= CHUNK_CHARS:
            self.flush()

    def flush(self) -> None:
        chunk = "".join(self.buffer)
        self.buffer, self.buffered = [], 0
        self._convert(chunk)

    def _convert(self, text: str) -> None:
        """Memory per slice: 4 bytes a character as UTF-32, 8 as a search index."""
        for start in range(0, len(text), CHUNK_CHARS):
            codes = np.frombuffer(
                text[start : start + CHUNK_CHARS].encode("utf-32-le"), dtype=np.uint32
            )
            if self.table is not None:  # a lookup: 8× faster than a search
                self.table[codes].tofile(self.file)
            else:
                np.searchsorted(self.cps, codes).astype(self.dtype).tofile(self.file)
            self.count += len(codes)

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None:
                self.flush()
        finally:
            self.file.close()


def _nothing_readable(description: str, report: BuildReport) -> str:
    if report.skipped:
        first_path, first_reason = next(iter(report.skipped.items()))
        return (
            f"no readable pieces in {description}: all {len(report.skipped)} files were skipped "
            f"(e.g. {first_path}: {first_reason})"
        )
    return f"no pieces of music or text in {description}"
