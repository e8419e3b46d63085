"""Training: parallel streams over the token file, truncated BPTT with the state carried across
batches, Adam with clipping and cosine decay, validation, checkpoints, samples, exact resume.

A run folder holds:  last.safetensors (resume point), best.safetensors (lowest validation loss),
metrics.jsonl, samples.jsonl + samples.txt (watch it learn), run.json, and corpus/ when the corpus
was built for this run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import shutil
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm import tqdm

from rnnmusic.checkpoint import load_checkpoint, save_checkpoint
from rnnmusic.codecs import Codec, get_codec
from rnnmusic.corpus import Corpus, build_corpus, is_corpus_dir
from rnnmusic.errors import RnnMusicError
from rnnmusic.model import CELLS, PRESETS, CharRNN, ModelConfig
from rnnmusic.paths import cache_dir
from rnnmusic.sample import SampleConfig, pick_device, sample_texts

LN2 = math.log(2)


@dataclass
class TrainConfig:
    codec: str = "text"
    codec_options: dict[str, Any] = field(default_factory=dict)
    corpus: str | None = None  # built-in name, folder, file, or built corpus folder
    out: str | None = None
    preset: str = "tiny"
    hidden_size: int | None = None  # None: the preset's
    num_layers: int | None = None
    dropout: float | None = None
    cell: str = "lstm"
    batch_size: int | None = None
    seq_len: int | None = None
    learning_rate: float | None = None
    max_steps: int | None = None
    eval_every: int | None = None
    max_minutes: float | None = None
    min_lr_ratio: float = 0.1
    warmup_steps: int = 50
    grad_clip: float = 5.0
    eval_batches: int = 40  # validation batches per evaluation during training (eval does all)
    sample_length: int = 400
    log_every: int = 10
    seed: int = 1337
    device: str = "auto"
    jobs: int | None = None
    progress: bool = True

    def resolved(self) -> TrainConfig:
        """A copy with every preset-dependent field filled in."""
        if self.preset not in PRESETS:
            raise RnnMusicError(f"unknown preset {self.preset!r}; choose {', '.join(PRESETS)}")
        if self.cell not in CELLS:
            raise RnnMusicError(f"unknown cell {self.cell!r}; choose {', '.join(CELLS)}")
        preset = asdict(PRESETS[self.preset])
        values = asdict(self)
        for key, value in values.items():
            if value is None and key in preset:
                values[key] = preset[key]
        config = TrainConfig(**values)
        for name in (
            "hidden_size",
            "num_layers",
            "batch_size",
            "seq_len",
            "max_steps",
            "eval_every",
        ):
            if getattr(config, name) < 1:
                raise RnnMusicError(f"--{name.replace('_', '-')} must be at least 1")
        if not 0 <= config.dropout < 1:
            raise RnnMusicError("--dropout must lie in [0, 1)")
        if config.max_minutes is not None and config.max_minutes <= 0:
            raise RnnMusicError("--max-minutes must be above 0")
        return config


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    best_val_loss: float
    last_val_loss: float
    stopped: str  # "max_steps", "max_minutes", "interrupted"
    codec: str = "text"

    @property
    def best_val_bpc(self) -> float:
        return self.best_val_loss / LN2


# -- data ---------------------------------------------------------------------------------------


class StreamBatcher:
    """B contiguous streams over the tokens; batch p is the p-th window of T tokens of each stream,
    so the hidden state after batch p is the right starting state for batch p + 1."""

    def __init__(self, tokens: np.ndarray, batch_size: int, seq_len: int):
        n = len(tokens)
        if n < 3:
            raise RnnMusicError("the corpus is too small to train on (fewer than 3 tokens)")
        seq_len = min(seq_len, n - 2)
        batch_size = max(1, min(batch_size, (n - 1) // (seq_len + 1)))
        self.tokens, self.batch_size, self.seq_len = tokens, batch_size, seq_len
        self.stream_len = (n - 1) // batch_size
        self.batches_per_epoch = max(1, self.stream_len // seq_len)
        self.offsets = np.arange(batch_size)[:, None] * self.stream_len + np.arange(seq_len + 1)

    def batch(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        position = step % self.batches_per_epoch
        window = np.asarray(self.tokens[self.offsets + position * self.seq_len], dtype=np.int64)
        data = torch.from_numpy(window)
        return data[:, :-1], data[:, 1:]

    def starts_epoch(self, step: int) -> bool:
        return step % self.batches_per_epoch == 0


@torch.inference_mode()
def evaluate(
    model: CharRNN,
    tokens: np.ndarray,
    batch_size: int,
    seq_len: int,
    device: torch.device,
    max_batches: int | None = None,
) -> float:
    """Mean loss (nats per character) over the split, state carried, dropout off."""
    was_training = model.training
    model.eval()
    n = len(tokens)
    batch_size = max(1, min(batch_size, (n - 1) // max(1, seq_len)))
    stream_len = (n - 1) // batch_size
    total, count = 0.0, 0
    state = model.initial_state(batch_size, device)
    starts = np.arange(batch_size)[:, None] * stream_len
    position, batches = 0, 0
    while position < stream_len and (max_batches is None or batches < max_batches):
        length = min(seq_len, stream_len - position)
        window = np.asarray(tokens[starts + position + np.arange(length + 1)], dtype=np.int64)
        data = torch.from_numpy(window).to(device)
        with autocast(device):
            logits, state = model(data[:, :-1], state)
        loss = torch.nn.functional.cross_entropy(
            logits.reshape(-1, logits.size(-1)).float(), data[:, 1:].reshape(-1), reduction="sum"
        )
        total += loss.item()
        count += data[:, 1:].numel()
        position += length
        batches += 1
    model.train(was_training)
    return total / max(1, count)


def autocast(device: torch.device):
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def learning_rate(config: TrainConfig, step: int) -> float:
    warmup = min(config.warmup_steps, config.max_steps // 10)
    if step < warmup:
        return config.learning_rate * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, config.max_steps - warmup))
    ratio = config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (
        1 + math.cos(math.pi * progress)
    )
    return config.learning_rate * ratio


# -- corpus resolution --------------------------------------------------------------------------


def prepare_corpus(config: TrainConfig, codec: Codec, run_dir: Path) -> Corpus:
    """A built corpus folder is used as is; a built-in corpus is built once into the cache; any
    other source (folder or file) is built into the run folder."""
    if config.corpus is not None and is_corpus_dir(config.corpus):
        corpus = Corpus.load(config.corpus)
        if corpus.meta["codec"] != codec.name or corpus.meta["codec_options"] != codec.options():
            raise RnnMusicError(
                f"corpus {config.corpus} was built with codec {corpus.meta['codec']} "
                f"{corpus.meta['codec_options']}, not {codec.name} {codec.options()}; "
                "build it again or train with its codec"
            )
        return corpus
    source = config.corpus if config.corpus is not None else codec.default_corpus
    if source is None:
        raise RnnMusicError(f"codec {codec.name} has no built-in corpus; give one with --corpus")
    if config.corpus is None or not Path(source).exists():
        return cached_builtin_corpus(str(source), codec, config.jobs, config.progress)
    print(f"building corpus from {source} into {run_dir / 'corpus'}")
    corpus = build_corpus(
        source, codec, run_dir / "corpus", jobs=config.jobs, progress=config.progress
    )
    print(_indent(corpus.meta["report"]))
    return corpus


def cached_builtin_corpus(name: str, codec: Codec, jobs: int | None, progress: bool) -> Corpus:
    options = json.dumps(codec.options(), sort_keys=True)
    key = f"{name}--{codec.name}--{abs(hash_text(options)):x}"
    target = cache_dir() / "corpora" / key
    if is_corpus_dir(target):
        with contextlib.suppress(RnnMusicError):
            return Corpus.load(target)
    print(
        f"building the built-in corpus {name!r} for the {codec.name} codec (once; cached in {target})"
    )
    tmp = target.with_name(f"{key}.tmp-{os.getpid()}")
    corpus = build_corpus(name, codec, tmp, jobs=jobs, progress=progress)
    print(_indent(corpus.meta["report"]))
    try:
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except OSError:
        return corpus  # another process got there first; this copy is just as good
    return Corpus.load(target)


def hash_text(text: str) -> int:
    import hashlib

    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=6).digest(), "big")


def _indent(report: dict) -> str:
    from rnnmusic.corpus import BuildReport

    return "  " + BuildReport(**report).summary().replace("\n", "\n  ")


# -- the run folder -----------------------------------------------------------------------------


class RunLock:
    """One training process per run folder: a second one is refused instead of interleaving."""

    def __init__(self, run_dir: Path):
        self.path = run_dir / ".lock"
        self.file = open(self.path, "a+")
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "another process"
            self.file.close()
            raise RnnMusicError(
                f"{run_dir} is in use by another training run (pid {holder}); "
                "wait for it to finish or choose another --out"
            ) from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()

    def release(self) -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()


class StopFlag:
    """Ctrl-C asks the loop to save and stop; a second Ctrl-C stops at once."""

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        with contextlib.suppress(ValueError):  # not the main thread: no handler
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def default_run_dir(codec_name: str) -> Path:
    return Path("runs") / f"{codec_name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"


# -- training -----------------------------------------------------------------------------------


def fit(
    config: TrainConfig,
    resume: str | Path | None = None,
    stop_when: Callable[[int], bool] | None = None,
) -> TrainResult:
    """Train a model, or continue the run folder `resume` exactly where it stopped.

    On resume the saved settings win, except the step and time budget (`max_steps`,
    `max_minutes`), `device` and `progress`, which come from `config`. `stop_when(step)` lets
    callers stop early; the run then saves a checkpoint as it does on Ctrl-C."""
    if resume is not None:
        run_dir = Path(resume)
        if not (run_dir / "last.safetensors").exists():
            raise RnnMusicError(f"{run_dir} holds no last.safetensors to resume from")
        ckpt = load_checkpoint(run_dir / "last.safetensors")
        saved = {**ckpt.meta["train"], "max_minutes": config.max_minutes}
        saved.update(device=config.device, progress=config.progress)
        if config.max_steps is not None:
            saved["max_steps"] = config.max_steps
        config = TrainConfig(
            **{f.name: saved[f.name] for f in fields(TrainConfig) if f.name in saved}
        )
    else:
        config = config.resolved()
        ckpt = None
        run_dir = Path(config.out) if config.out else default_run_dir(config.codec)
        if (run_dir / "last.safetensors").exists():
            raise RnnMusicError(
                f"{run_dir} already holds a training run; continue it with --resume {run_dir} "
                "or choose another --out"
            )
    run_dir.mkdir(parents=True, exist_ok=True)
    lock = RunLock(run_dir)
    try:
        return _fit(config, run_dir, ckpt, stop_when)
    finally:
        lock.release()


def _fit(config: TrainConfig, run_dir: Path, ckpt, stop_when) -> TrainResult:
    device = pick_device(config.device)
    codec = get_codec(config.codec, **config.codec_options)
    config.codec_options = codec.options()
    if ckpt is not None:
        corpus = Corpus.load(ckpt.meta["corpus_path"])
    else:
        corpus = prepare_corpus(config, codec, run_dir)
    train_tokens, valid_tokens = corpus.tokens("train"), corpus.tokens("valid")
    vocab = corpus.vocab

    torch.manual_seed(config.seed)
    model_config = ModelConfig(
        vocab_size=len(vocab),
        hidden_size=config.hidden_size,
        num_layers=config.num_layers,
        dropout=config.dropout,
        cell=config.cell,
    )
    model = ckpt.model(device) if ckpt is not None else CharRNN(model_config).to(device)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=config.learning_rate, **_adam_options(device)
    )
    batcher = StreamBatcher(train_tokens, config.batch_size, config.seq_len)
    state = model.initial_state(batcher.batch_size, device)
    step, best_val, last_val, elapsed_before = 0, math.inf, math.inf, 0.0
    if ckpt is not None:
        _restore_training_state(ckpt, optimizer, model)
        step = ckpt.meta["step"]
        best_val = ckpt.meta.get("best_val_loss", math.inf)
        last_val = ckpt.meta.get("val_loss", math.inf)
        elapsed_before = ckpt.meta.get("elapsed_s", 0.0)
        saved_state = ckpt.group("train.state")
        if saved_state and saved_state["0"].shape[1] == batcher.batch_size:
            state = tuple(saved_state[str(i)].to(device) for i in range(len(saved_state)))
        print(f"resuming {run_dir} at step {step}")
    else:
        (run_dir / "run.json").write_text(
            json.dumps({"config": asdict(config), "corpus": str(corpus.path)}, indent=1)
        )
        print(
            f"training a {model_config.num_layers}×{model_config.hidden_size} {config.cell.upper()} "
            f"({model.num_parameters():,} parameters) on {device} — {len(train_tokens):,} training "
            f"characters, vocabulary {len(vocab)}, batch {batcher.batch_size}×{batcher.seq_len}"
        )

    meta_base = {
        "codec": codec.name,
        "codec_options": codec.options(),
        "separator": codec.separator,
        "vocab": vocab,
        "model": model_config.to_dict(),
        "train": asdict(config),
        "corpus_path": str(Path(corpus.path).resolve()),
        "default_sample_length": _default_sample_length(corpus),
    }
    tokens_per_step = batcher.batch_size * batcher.seq_len
    metrics = open(run_dir / "metrics.jsonl", "a", encoding="utf-8")
    deadline = None if config.max_minutes is None else time.monotonic() + config.max_minutes * 60
    started = time.monotonic()
    stopped = "max_steps"

    def save(kind: str) -> None:
        meta = {
            **meta_base,
            "kind": kind,
            "step": step,
            "val_loss": last_val,
            "best_val_loss": best_val,
            "elapsed_s": elapsed_before + time.monotonic() - started,
        }
        tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
        if kind == "last":
            tensors.update(_optimizer_tensors(optimizer, meta))
            tensors.update({f"train.state.{i}": s for i, s in enumerate(state)})
            tensors["train.rng.cpu"] = torch.get_rng_state()
            if device.type == "cuda":
                tensors["train.rng.cuda"] = torch.cuda.get_rng_state(device)
        save_checkpoint(run_dir / f"{kind}.safetensors", tensors, meta)

    def validate_and_save() -> None:
        nonlocal best_val, last_val
        last_val = evaluate(
            model, valid_tokens, batcher.batch_size, batcher.seq_len, device, config.eval_batches
        )
        _log(metrics, step=step, val_loss=last_val, val_bpc=last_val / LN2)
        if last_val < best_val:
            best_val = last_val
            save("best")
        save("last")
        _write_sample(run_dir, model, vocab, codec.separator, config, step, last_val, device)
        model.train()

    bar = tqdm(
        total=config.max_steps,
        initial=step,
        desc="training",
        unit="step",
        disable=not config.progress,
        dynamic_ncols=True,
    )
    model.train()
    window_loss = torch.zeros((), device=device)
    window_steps, window_start = 0, time.perf_counter()
    with StopFlag() as stop:
        while step < config.max_steps:
            if batcher.starts_epoch(step):
                state = model.initial_state(batcher.batch_size, device)
            x, y = batcher.batch(step)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(config, step)
            with autocast(device):
                loss, state = model.loss(x, y, state)
            state = tuple(s.detach() for s in state)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            step += 1
            window_loss += loss.detach()
            window_steps += 1

            if step % config.log_every == 0 or step == config.max_steps:
                seconds = time.perf_counter() - window_start
                train_loss = window_loss.item() / window_steps
                speed = tokens_per_step * window_steps / max(seconds, 1e-9)
                _log(
                    metrics,
                    step=step,
                    train_loss=train_loss,
                    train_bpc=train_loss / LN2,
                    lr=optimizer.param_groups[0]["lr"],
                    tokens_per_s=speed,
                )
                bar.set_postfix_str(
                    f"loss {train_loss / LN2:.3f} bpc, val {last_val / LN2:.3f}, {speed:,.0f} tok/s",
                    refresh=False,
                )
                bar.update(window_steps)
                window_loss.zero_()
                window_steps, window_start = 0, time.perf_counter()
            if step % config.eval_every == 0 or step == config.max_steps:
                validate_and_save()
            if stop.requested or (stop_when is not None and stop_when(step)):
                stopped = "interrupted"
                break
            if deadline is not None and time.monotonic() > deadline:
                stopped = "max_minutes"
                break
        if stopped != "max_steps":
            validate_and_save()
    bar.close()
    metrics.close()
    return TrainResult(run_dir, step, best_val, last_val, stopped, codec.name)


def _default_sample_length(corpus: Corpus) -> int:
    """Long enough for a typical piece to finish (sampling stops at the separator anyway)."""
    report = corpus.meta["report"]
    mean = report["train_tokens"] / max(1, report["train_pieces"])
    return int(min(20000, max(500, 2 * mean)))


def _adam_options(device: torch.device) -> dict:
    return {"fused": True} if device.type == "cuda" else {"foreach": True}


def _optimizer_tensors(optimizer: torch.optim.Optimizer, meta: dict) -> dict[str, torch.Tensor]:
    state_dict = optimizer.state_dict()
    meta["optimizer"] = {"param_groups": state_dict["param_groups"]}
    tensors = {}
    for index, values in state_dict["state"].items():
        for key, value in values.items():
            tensors[f"optim.{index}.{key}"] = torch.as_tensor(value)
    return tensors


def _restore_training_state(ckpt, optimizer: torch.optim.Optimizer, model: CharRNN) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, tensor in ckpt.group("optim").items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = tensor
    device = next(model.parameters()).device
    for values in state.values():
        for key, value in values.items():
            values[key] = value if key == "step" else value.to(device)
    groups = ckpt.meta["optimizer"]["param_groups"]
    optimizer.load_state_dict({"state": state, "param_groups": groups})
    rng = ckpt.tensors.get("train.rng.cpu")
    if rng is not None:
        torch.set_rng_state(rng)
    if "train.rng.cuda" in ckpt.tensors and device.type == "cuda":
        torch.cuda.set_rng_state(ckpt.tensors["train.rng.cuda"], device)


def _log(stream, **values) -> None:
    values["time"] = round(time.time(), 3)
    stream.write(json.dumps(values) + "\n")
    stream.flush()


def _write_sample(run_dir, model, vocab, separator, config, step, val_loss, device) -> None:
    """Append a sample to samples.jsonl / samples.txt: the run's 'watch it learn' record."""
    sample_config = SampleConfig(
        num=1, length=config.sample_length, temperature=0.8, seed=step, stop_at_separator=True
    )
    text = sample_texts(model, vocab, separator, sample_config, device)[0]
    record = {"step": step, "val_bpc": val_loss / LN2, "text": text}
    with open(run_dir / "samples.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")
    with open(run_dir / "samples.txt", "a", encoding="utf-8") as f:
        f.write(f"=== step {step}, validation {val_loss / LN2:.3f} bits/char ===\n{text}\n\n")
