"""`rnnmusic eval`: an honest yardstick for a run.

- validation bits per character over the whole held-out split (not a few batches);
- the interpolated Kneser-Ney n-gram baseline on exactly the same split;
- sample quality: share decoded with zero repairs, repairs per 1,000 characters, how much the
  samples copy the training text, and music-level statistics next to the training corpus's.
"""

from __future__ import annotations

import contextlib
import json
import math
import statistics
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnmusic.atomic_write import write_text
from rnnmusic.batches import validation_loss
from rnnmusic.bounded_read import read_json
from rnnmusic.checkpoint import Checkpoint, load_checkpoint
from rnnmusic.codecs import Codec, Piece
from rnnmusic.corpus import Corpus
from rnnmusic.device import pick_device
from rnnmusic.errors import CodecError, RnnMusicError
from rnnmusic.music_check import format_checks, music_checks
from rnnmusic.ngram import BaselineResult, baseline, rolling_hashes
from rnnmusic.sample import SampleConfig, generate
from rnnmusic.train import LN2

COPY_WINDOW = 32
MAX_CACHE_BYTES = 1024 * 1024  # ngram.json: a dozen numbers


@dataclass
class EvalConfig:
    num: int = 100
    temperature: float = 1.0
    strict: bool = False
    seed: int = 1
    device: str = "auto"
    length: int | None = None


def corpus_baseline(corpus: Corpus, max_order: int = 12) -> BaselineResult:
    """The n-gram baseline of a corpus, computed once and kept in the corpus folder."""
    cache = corpus.path / "ngram.json"
    try:
        data = read_json(cache, MAX_CACHE_BYTES) if cache.exists() else {}
    except CodecError:
        data = {}  # damaged: computed again and rewritten below
    if isinstance(data, dict) and data.get("max_order") == max_order:
        with contextlib.suppress(KeyError, TypeError, ValueError, AttributeError):
            return BaselineResult(
                {int(k): float(v) for k, v in data["bpc_by_order"].items()},
                int(data["best_order"]),
                float(data["best_bpc"]),
                int(data["train_chars"]),
                int(data["valid_chars"]),
            )
    result = baseline(corpus.tokens("train"), corpus.tokens("valid"), len(corpus.vocab), max_order)
    data = {"max_order": max_order, **result.__dict__}
    write_text(cache, json.dumps(data, indent=1))
    return result


def copy_rate(samples: list[str], train: np.ndarray, vocab: list[str]) -> float | None:
    """Share of the samples' 32-character windows that occur verbatim in the training text."""
    *_, train_hashes = rolling_hashes(np.asarray(train), COPY_WINDOW)
    known = np.unique(train_hashes[: max(0, len(train) - COPY_WINDOW + 1)])
    index = {ch: i for i, ch in enumerate(vocab)}
    found = total = 0
    for text in samples:
        ids = np.array([index[c] for c in text if c in index], dtype=np.int64)
        if len(ids) < COPY_WINDOW:
            continue
        *_, hashes = rolling_hashes(ids, COPY_WINDOW)
        windows = hashes[: len(ids) - COPY_WINDOW + 1]
        found += int(np.isin(windows, known).sum())
        total += len(windows)
    return found / total if total else None


def midi_stats(path: Path) -> dict[str, float]:
    """What a listener notices: how many notes, how fast, how high and low, how many at once."""
    import pretty_midi

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        midi = pretty_midi.PrettyMIDI(str(path))
    notes = [n for inst in midi.instruments for n in inst.notes]
    if not notes:
        return {"notes": 0.0}
    end = max(n.end for n in notes)
    pitches = [n.pitch for n in notes if not _is_drum(midi, n)] or [n.pitch for n in notes]
    return {
        "notes": float(len(notes)),
        "seconds": end,
        "notes_per_second": len(notes) / end if end > 0 else 0.0,
        "pitch_low": float(min(pitches)),
        "pitch_high": float(max(pitches)),
        "pitch_range": float(max(pitches) - min(pitches)),
        "polyphony": sum(n.end - n.start for n in notes) / end if end > 0 else 0.0,
    }


def _is_drum(midi, note) -> bool:
    return any(inst.is_drum and note in inst.notes for inst in midi.instruments)


def piece_stats(codec: Codec, piece: Piece, workdir: Path) -> dict[str, float]:
    """The MIDI statistics of a piece (for codecs that write .mid) and the codec's own
    `Codec.piece_stats`, in one row, so samples and training pieces are measured alike."""
    stats: dict[str, float] = {}
    if ".mid" in codec.writes:
        target = workdir / "piece.mid"
        try:
            codec.write(piece, target)
            stats.update(midi_stats(target))
        except Exception:  # a piece that cannot become MIDI is itself a finding
            stats["midi_failed"] = 1.0
    stats.update(codec.piece_stats(piece))
    return stats


def mean_stats(rows: list[dict[str, float]]) -> dict[str, float]:
    keys = sorted({k for row in rows for k in row})
    out = {}
    for key in keys:
        values = [row[key] for row in rows if key in row and not math.isnan(row[key])]
        if values:
            out[key] = statistics.fmean(values)
    return out


def training_pieces(corpus: Corpus, codec: Codec, count: int) -> list[str]:
    """Evenly spaced pieces of the training split, for statistics to compare against."""
    tokens = corpus.tokens("train")
    limit = min(len(tokens), 5_000_000)
    text = "".join(np.array(corpus.vocab, dtype=object)[np.asarray(tokens[:limit])])
    pieces = codec.split_pieces(text)
    if len(pieces) > 2:
        pieces = pieces[1:-1]  # the cut may have split the last one
    step = max(1, len(pieces) // max(1, count))
    return pieces[::step][:count]


def run_eval(run_dir: str | Path, config: EvalConfig, progress=print) -> dict[str, Any]:
    ckpt: Checkpoint = load_checkpoint(run_dir)
    run_path = Path(run_dir) if Path(run_dir).is_dir() else ckpt.path.parent
    corpus_path = ckpt.info.corpus_path  # None in shipped models
    try:
        corpus = Corpus.load(corpus_path) if corpus_path is not None else None
    except RnnMusicError:
        corpus = None
    if corpus is None:
        raise RnnMusicError(
            f"the corpus this model was trained on ({corpus_path}) is gone; "
            "eval needs its validation split — rebuild it or train again"
        )
    codec = ckpt.codec()
    device = pick_device(config.device)
    model = ckpt.model(device)
    settings = ckpt.info.train

    sample_config = SampleConfig(
        num=config.num,
        length=ckpt.sample_length(config.length),
        temperature=config.temperature,
        seed=config.seed,
        strict=config.strict,
    )
    sample_config.check()  # before minutes of validation, not after

    progress("validation loss over the whole held-out split …")
    valid_loss = validation_loss(
        model, corpus.tokens("valid"), settings.batch_size, settings.seq_len, device
    )
    progress("n-gram baseline (Kneser-Ney, orders 1–12) …")
    ngram = corpus_baseline(corpus)

    progress(f"sampling {config.num} pieces …")
    start = time.perf_counter()
    texts = generate(ckpt, sample_config, device=config.device)
    seconds = time.perf_counter() - start
    pieces = [codec.decode(text) for text in texts]
    chars = sum(len(t) for t in texts)
    repairs = sum(len(p.repairs) for p in pieces)

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sample_rows = [piece_stats(codec, p, work) for p in pieces]
        reference = [codec.decode(t) for t in training_pieces(corpus, codec, config.num)]
        corpus_rows = [piece_stats(codec, p, work) for p in reference]
    sample_stats, corpus_stats = mean_stats(sample_rows), mean_stats(corpus_rows)

    result = {
        "checkpoint": str(ckpt.path),
        "codec": codec.name,
        "step": ckpt.info.step,
        "valid_bpc": valid_loss / LN2,
        "ngram_bpc": ngram.best_bpc,
        "ngram_order": ngram.best_order,
        "ngram_bpc_by_order": ngram.bpc_by_order,
        "samples": len(pieces),
        "samples_clean": sum(p.clean for p in pieces),
        "samples_clean_share": sum(p.clean for p in pieces) / max(1, len(pieces)),
        "repairs_per_1000_chars": 1000 * repairs / max(1, chars),
        "mean_sample_chars": chars / max(1, len(texts)),
        "copy_rate_32": copy_rate(texts, corpus.tokens("train"), ckpt.vocab),
        "strict": config.strict,
        "temperature": config.temperature,
        "sampling_chars_per_s": chars / seconds if seconds > 0 else None,
        "samples_redrawn": getattr(texts, "redrawn", 0),
        "stats": {"samples": sample_stats, "training": corpus_stats},
        "music_checks": music_checks(sample_rows, corpus_rows),
    }
    write_text(run_path / "eval.json", json.dumps(result, indent=1))
    return result


def format_report(result: dict[str, Any]) -> str:
    lines = [
        f"{'':<28}{'value':>12}",
        f"{'validation bits/char':<28}{result['valid_bpc']:>12.3f}",
        f"{'n-gram bits/char':<28}{result['ngram_bpc']:>12.3f}   (Kneser-Ney, order {result['ngram_order']})",
        f"{'samples clean':<28}{result['samples_clean']:>8} / {result['samples']}"
        + ("   (grammar-constrained: --strict)" if result.get("strict") else "   (--no-strict)"),
        f"{'repairs per 1000 chars':<28}{result['repairs_per_1000_chars']:>12.2f}",
    ]
    if result["copy_rate_32"] is not None:
        lines.append(f"{'copied 32-char windows':<28}{result['copy_rate_32']:>12.1%}")
    sample_stats, corpus_stats = result["stats"]["samples"], result["stats"]["training"]
    keys = sorted(set(sample_stats) | set(corpus_stats))
    if keys:
        lines.append(f"\n{'music statistics (mean)':<28}{'samples':>12}{'training':>12}")
        for key in keys:
            a, b = sample_stats.get(key), corpus_stats.get(key)
            fa = f"{a:>12.2f}" if a is not None else f"{'–':>12}"
            fb = f"{b:>12.2f}" if b is not None else f"{'–':>12}"
            lines.append(f"{key:<28}{fa}{fb}")
    if result.get("samples_redrawn"):
        lines.append(f"{'drawn again (no notes)':<28}{result['samples_redrawn']:>12}")
    lines += format_checks(result.get("music_checks", {}))
    verdict = "beats" if result["valid_bpc"] < result["ngram_bpc"] else "does NOT beat"
    lines.append(f"\nthe LSTM {verdict} the n-gram baseline on the same validation split")
    return "\n".join(lines)
