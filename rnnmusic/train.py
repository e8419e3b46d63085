"""Training: parallel streams over the token file, truncated BPTT with the state carried across
batches, Adam with clipping and cosine decay, validation, checkpoints, samples, exact resume.

A run folder holds:  last.safetensors (resume point), best.safetensors (lowest validation loss),
metrics.jsonl, samples.jsonl + samples.txt (watch it learn), run.json, and corpus/ when the corpus
was built for this run.

Under `torchrun` every process trains its own block of the batch's streams with
DistributedDataParallel; rank 0 alone writes checkpoints, samples and logs. Checkpoints hold the
state of all streams, so a run resumes with any number of processes.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

from rnnmusic import distributed
from rnnmusic.atomic_write import WriteError, append_text, make_folder, write_text
from rnnmusic.batches import StreamBatcher, autocast, validation_loss
from rnnmusic.bounds import number, whole
from rnnmusic.checkpoint import (
    Checkpoint,
    CheckpointWriteError,
    load_checkpoint,
    model_tensors,
    optimizer_state,
    save_checkpoint,
)
from rnnmusic.checkpoint_meta import MAX_HIDDEN, MAX_LAYERS, MAX_SAMPLE_LENGTH
from rnnmusic.codecs import get_codec
from rnnmusic.corpus import Corpus
from rnnmusic.device import pick_device
from rnnmusic.errors import CheckpointError, RnnMusicError
from rnnmusic.model import CELLS, PRESETS, CharRNN, ModelConfig
from rnnmusic.progress import progress_bar
from rnnmusic.rundir import (
    RunLock,
    StopFlag,
    default_run_dir,
    forget_unstarted_run,
    prepare_corpus,
    remove_empty_run_dir,
    stopped_by_write,
)
from rnnmusic.sample import SampleConfig, sample_texts

LN2 = math.log(2)
MAX_SEED = 2**63 - 1 - 1024  # each process adds its rank; torch takes seeds below 2^63
WHOLE_BOUNDS = {  # name: (lowest, highest); the highest keep memory and time sane
    "hidden_size": (1, MAX_HIDDEN),
    "num_layers": (1, MAX_LAYERS),
    "batch_size": (1, 1 << 16),
    "seq_len": (1, 1 << 16),
    "max_steps": (1, 10**9),
    "eval_every": (1, 10**9),
    "eval_batches": (1, 10**6),
    "sample_length": (1, MAX_SAMPLE_LENGTH),
    "log_every": (1, 10**9),
    "warmup_steps": (0, 10**9),
    "seed": (0, MAX_SEED),
}
NUMBER_BOUNDS = {  # name: (above, at most); NaN and infinity are refused by these too
    "learning_rate": (0.0, 10.0),
    "max_minutes": (0.0, 1e7),
    "grad_clip": (0.0, 1e6),
}


@dataclass
class TrainConfig:
    codec: str = "text"
    codec_options: dict[str, Any] = field(default_factory=dict)
    corpus: str | None = None  # built-in name, folder, file, or built corpus folder
    out: str | None = None
    preset: str | None = None  # None: "medium" on a GPU, "small" on a CPU
    hidden_size: int | None = None  # None: the preset's
    num_layers: int | None = None
    dropout: float | None = None
    tie_weights: bool | None = None  # None: the preset's
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
        if self.preset is None:
            self.preset = "small" if pick_device(self.device).type == "cpu" else "medium"
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
        config.check()
        return config

    def check(self) -> None:
        """Every setting within bounds a run can use, before a folder or a model is made: the
        CLI's options and the settings a resumed checkpoint brings back alike."""
        for name, (low, high) in WHOLE_BOUNDS.items():
            whole("--" + name.replace("_", "-"), getattr(self, name), low, high)
        for name, (low, high) in NUMBER_BOUNDS.items():
            value = getattr(self, name)
            if value is None and name == "max_minutes":
                continue
            flag = "--" + name.replace("_", "-")
            if not low < number(flag, value) <= high:
                raise RnnMusicError(
                    f"{flag} must lie above {low:g} and at most {high:g}, not {value}"
                )
        if not 0 <= number("--dropout", self.dropout) < 1:
            raise RnnMusicError(f"--dropout must lie in [0, 1), not {self.dropout}")
        if not 0 <= number("min_lr_ratio", self.min_lr_ratio) <= 1:
            raise RnnMusicError(f"min_lr_ratio must lie in [0, 1], not {self.min_lr_ratio}")
        if self.cell not in CELLS:
            raise RnnMusicError(f"unknown cell {self.cell!r}; choose {', '.join(CELLS)}")
        if not isinstance(self.codec_options, dict):
            raise RnnMusicError(f"codec options must be a mapping, not {self.codec_options!r}")


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


def schedule_progress(config: TrainConfig, step: int) -> float:
    """How far the decay has come at `step` of `max_steps` (0 until the warm-up ends, 1 at the
    end)."""
    warmup = min(config.warmup_steps, config.max_steps // 10)
    return min(1.0, max(0, step - warmup) / max(1, config.max_steps - warmup))


def learning_rate(config: TrainConfig, step: int, progress: float | None = None) -> float:
    """Linear warm-up, then cosine decay to `min_lr_ratio` of the peak when `progress` (by
    default the share of `max_steps` done) reaches 1."""
    warmup = min(config.warmup_steps, config.max_steps // 10)
    if step < warmup:
        return config.learning_rate * (step + 1) / warmup
    if progress is None:
        progress = schedule_progress(config, step)
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return config.learning_rate * (config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine)


def fit(
    config: TrainConfig,
    resume: str | Path | None = None,
    stop_when: Callable[[int], bool] | None = None,
) -> TrainResult:
    """Train a model, or continue the run folder `resume` exactly where it stopped.

    On resume the saved settings win, except the step and time budget (`max_steps`,
    `max_minutes`), `device` and `progress`, which come from `config`. `max_minutes` counts from
    this call, corpus building and the final validation included. `stop_when(step)` lets
    callers stop early; the run then saves a checkpoint as it does on Ctrl-C."""
    begun = time.monotonic()
    world = distributed.setup(config.device)
    try:
        if resume is not None:
            run_dir = Path(resume)
            if not (run_dir / "last.safetensors").exists():
                raise RnnMusicError(f"{run_dir} holds no last.safetensors to resume from")
            ckpt = load_checkpoint(run_dir / "last.safetensors")
            config = _resumed_config(ckpt, config)
        else:
            config, ckpt = config.resolved(), None
            run_dir = Path(config.out) if config.out else default_run_dir(config.codec)
            run_dir = Path(distributed.broadcast(world, str(run_dir)))
            if (run_dir / "last.safetensors").exists():
                raise RnnMusicError(
                    f"{run_dir} already holds a training run; continue it with --resume "
                    f"{run_dir} or choose another --out"
                )
        distributed.barrier(world)
        created = not run_dir.exists()
        make_folder(run_dir)
        try:
            lock = RunLock(run_dir) if world.is_main else None
        except RnnMusicError:
            if created:
                remove_empty_run_dir(run_dir)
            raise
        if world.is_main:
            print(f"run folder: {run_dir} (checkpoints, metrics.jsonl, samples.txt)", flush=True)
        try:
            result = Training(config, run_dir, ckpt, world, begun).run(stop_when)
            # ranks leave together: one tearing down while another still talks to it aborts
            # ("terminate called without an active exception") and fails the launch
            distributed.barrier(world)
            return result
        except (WriteError, CheckpointWriteError) as exc:
            raise RnnMusicError(stopped_by_write(exc, run_dir)) from None
        finally:
            if lock is not None:
                if not (run_dir / "last.safetensors").exists():
                    forget_unstarted_run(run_dir, created)  # failed before its first checkpoint
                lock.release()
    finally:
        distributed.teardown(world)


def _resumed_config(ckpt: Checkpoint, config: TrainConfig) -> TrainConfig:
    ckpt.require_resumable()
    saved = {**ckpt.info.train.values, "max_minutes": config.max_minutes}
    saved.update(device=config.device, progress=config.progress)
    saved["tie_weights"] = ckpt.info.model.tie_weights  # the saved model's own shape wins
    if config.max_steps is not None:
        saved["max_steps"] = config.max_steps
    resumed = TrainConfig(**{f.name: saved[f.name] for f in fields(TrainConfig) if f.name in saved})
    try:
        resumed.check()
    except RnnMusicError as exc:
        if config.max_steps is not None and "--max-steps" in str(exc):
            raise  # the user's own option
        raise CheckpointError(
            f"{ckpt.path}: its training settings are damaged ({exc}); training cannot resume"
        ) from None
    return resumed


class Training:
    """One training run: the model, its optimiser, the data streams and their carried state."""

    def __init__(
        self,
        config: TrainConfig,
        run_dir: Path,
        ckpt: Checkpoint | None,
        world,
        begun: float | None = None,
    ):
        self.config, self.run_dir, self.world = config, run_dir, world
        self.begun = time.monotonic() if begun is None else begun  # the time budget's start
        self.validation_s: float | None = None  # how long the last validation took
        self.device = self._device()
        self.codec = get_codec(config.codec, **config.codec_options)
        config.codec_options = self.codec.options()
        self.corpus = self._corpus(ckpt)
        self.profile = self.corpus.profile.to_dict()  # sampling keeps to the training pieces
        self.vocab = self.corpus.vocab
        self.valid_tokens = self.corpus.tokens("valid")

        torch.manual_seed(config.seed + world.rank)
        self.model_config = ModelConfig(
            vocab_size=len(self.vocab),
            hidden_size=config.hidden_size,
            num_layers=config.num_layers,
            dropout=config.dropout,
            cell=config.cell,
            tie_weights=config.tie_weights,
        )
        self.model = ckpt.model(self.device) if ckpt else CharRNN(self.model_config).to(self.device)
        self.net = self.model
        if world.active:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = DistributedDataParallel(self.model, device_ids=ids)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=config.learning_rate, **_adam_options(self.device)
        )
        self.batcher = StreamBatcher(
            self.corpus.tokens("train"), config.batch_size, config.seq_len, world.rank, world.size
        )
        self.state = self.model.initial_state(self.batcher.local_batch, self.device)
        self.step, self.best_val, self.last_val, self.elapsed_before = 0, math.inf, math.inf, 0.0
        self.progress_before = 0.0  # the decay's progress when this call began (resume)
        self.progress = 0.0
        self.deadline: float | None = None
        self.time_share = 0.0  # share of this call's time budget spent
        if ckpt is not None:
            self._restore(ckpt)
        elif world.is_main:
            self._announce()

    def _device(self) -> torch.device:
        device = pick_device(self.config.device)
        if device.type == "cuda" and self.world.active:
            return torch.device("cuda", self.world.local_rank)
        return device

    def _corpus(self, ckpt: Checkpoint | None) -> Corpus:
        if ckpt is not None:
            return Corpus.load(ckpt.info.corpus_path)
        config = self.config
        path = None
        if self.world.is_main:  # one process builds; the others open what it built
            path = prepare_corpus(
                config.corpus, self.codec, self.run_dir, config.jobs, config.progress
            ).path
        return Corpus.load(distributed.broadcast(self.world, str(path)))

    def _announce(self) -> None:
        write_text(
            self.run_dir / "run.json",
            json.dumps({"config": asdict(self.config), "corpus": str(self.corpus.path)}, indent=1),
        )
        mc, b = self.model_config, self.batcher
        processes = f" × {self.world.size} processes" if self.world.active else ""
        print(
            f"training a {mc.num_layers}×{mc.hidden_size} {mc.cell.upper()}"
            + (" (tied weights)" if mc.tie_weights else "")
            + " "
            f"({self.model.num_parameters():,} parameters) on {self.device}{processes} — "
            f"{len(b.tokens):,} training characters, vocabulary {len(self.vocab)}, "
            f"batch {b.batch_size}×{b.seq_len}, preset {self.config.preset}, "
            f"{self.config.max_steps:,} steps"
            + (f" or {self.config.max_minutes:g} minutes" if self.config.max_minutes else "")
        )

    # -- checkpoints ----------------------------------------------------------------------------

    def _restore(self, ckpt: Checkpoint) -> None:
        ckpt.restore_optimizer(self.optimizer, self.device)
        info = ckpt.info
        self.step = info.step
        self.best_val, self.last_val = info.best_val_loss, info.val_loss
        self.elapsed_before = info.elapsed_s
        self.progress_before = (
            info.lr_progress
            if info.lr_progress is not None
            else schedule_progress(self.config, self.step)
        )
        self.progress = self.progress_before
        if self.world.rank < info.world_size:  # RNG streams exist per saved rank
            rng = ckpt.tensors.get(
                f"train.rng.cpu.{self.world.rank}", ckpt.tensors.get("train.rng.cpu")
            )
            if rng is not None:
                torch.set_rng_state(rng)
        saved = ckpt.group("train.state")
        if saved and saved["0"].shape[1] == self.batcher.batch_size:
            lo = self.world.rank * self.batcher.local_batch
            hi = lo + self.batcher.local_batch
            self.state = tuple(saved[str(i)][:, lo:hi].to(self.device) for i in range(len(saved)))
        if self.world.is_main:
            print(f"resuming {self.run_dir} at step {self.step}")

    def save(self, kind: str) -> None:
        """Collective under DDP (the stream states are gathered); rank 0 writes the file."""
        full_state = [distributed.gather_streams(self.world, s) for s in self.state]
        rngs = [torch.get_rng_state()]
        if self.world.active:
            rngs = [None] * self.world.size
            torch.distributed.all_gather_object(rngs, torch.get_rng_state())
        if not self.world.is_main:
            return
        meta = {
            "codec": self.codec.name,
            "codec_options": self.codec.options(),
            "separator": self.codec.separator,
            "vocab": self.vocab,
            "model": self.model_config.to_dict(),
            "train": asdict(self.config),
            "corpus_path": str(Path(self.corpus.path).resolve()),
            "default_sample_length": _default_sample_length(self.corpus),
            "profile": self.profile,
            "kind": kind,
            "step": self.step,
            "val_loss": self.last_val,
            "best_val_loss": self.best_val,
            "elapsed_s": self.elapsed_before + time.monotonic() - self.started,
            "lr_progress": self.progress,
            "world_size": self.world.size,
        }
        tensors = model_tensors(self.model)
        if kind == "last":
            meta["optimizer"], moments = optimizer_state(self.optimizer)
            tensors.update(moments)
            tensors.update({f"train.state.{i}": s for i, s in enumerate(full_state)})
            for rank, rng in enumerate(rngs):
                tensors[f"train.rng.cpu.{rank}"] = rng
        save_checkpoint(self.run_dir / f"{kind}.safetensors", tensors, meta)

    def validate_and_save(self) -> None:
        config = self.config
        began = time.monotonic()
        self.last_val = validation_loss(
            self.model,
            self.valid_tokens,
            self.batcher.batch_size,
            self.batcher.seq_len,
            self.device,
            config.eval_batches,
        )
        self.last_val = distributed.broadcast(self.world, self.last_val)  # one verdict for all
        improved = self.last_val < self.best_val
        if improved:
            self.best_val = self.last_val
        if self.world.is_main:
            self._log(step=self.step, val_loss=self.last_val, val_bpc=self.last_val / LN2)
        if improved:
            self.save("best")
        self.save("last")
        if self.world.is_main:
            self._write_sample()
        self.model.train()
        self.validation_s = time.monotonic() - began

    def final_validation_s(self, step_s: float) -> float:
        """Time to keep for the validation, sample and checkpoint that end a run: as long as the
        last one took, or before the first, a forward pass per validation batch and a step
        per sampled character priced at a training step (generous on purpose)."""
        if self.validation_s is not None:
            return self.validation_s
        return step_s * self.config.eval_batches + 0.002 * self.config.sample_length

    def schedule_progress(self, step: int) -> float:
        """The decay follows whichever budget runs out first: steps, or with `max_minutes` the
        time left (the decay that remained when this call began is spread over it, keeping
        room for the final validation), so a timed run ends at its lowest learning rate
        instead of being cut off halfway down. It never goes back up on resume."""
        progress = max(schedule_progress(self.config, step), self.progress_before)
        return max(progress, self.progress_before + (1 - self.progress_before) * self.time_share)

    def update_time_share(self) -> None:
        """The share of this call's time budget spent; under DDP rank 0's reading, so that
        every process steps with the same learning rate."""
        if self.deadline is None:
            return
        window = self.deadline - self.started - (self.validation_s or 0.0)
        share = min(1.0, (time.monotonic() - self.started) / max(window, 1e-9))
        self.time_share = distributed.broadcast(self.world, share)

    # -- the loop -------------------------------------------------------------------------------

    def train_step(self, step: int) -> torch.Tensor:
        if self.batcher.starts_epoch(step):
            self.state = self.model.initial_state(self.batcher.local_batch, self.device)
        x, y = self.batcher.batch(step)
        x, y = x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True)
        self.progress = self.schedule_progress(step)
        for group in self.optimizer.param_groups:
            group["lr"] = learning_rate(self.config, step, self.progress)
        with autocast(self.device):
            logits, state = self.net(x, self.state)
        loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)).float(), y.reshape(-1))
        self.state = tuple(s.detach() for s in state)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.optimizer.step()
        return loss.detach()

    def run(self, stop_when: Callable[[int], bool] | None) -> TrainResult:
        config, world = self.config, self.world
        self.started = time.monotonic()
        deadline = None if config.max_minutes is None else self.begun + config.max_minutes * 60
        self.deadline = deadline
        bar = progress_bar(
            config.max_steps,
            "training",
            "step",
            enabled=config.progress and world.is_main,
            initial=self.step,
        )
        tokens_per_step = self.batcher.batch_size * self.batcher.seq_len
        window_loss = torch.zeros((), device=self.device)
        window_steps, window_start = 0, time.perf_counter()
        stopped = "max_steps"
        first_step = self.step
        self.model.train()
        with StopFlag() as interrupt:
            while self.step < config.max_steps:
                if not world.active or self.step % config.log_every == 0:
                    self.update_time_share()
                window_loss += self.train_step(self.step)
                self.step += 1
                window_steps += 1
                at_log = self.step % config.log_every == 0 or self.step == config.max_steps
                if at_log:
                    loss = distributed.mean(world, window_loss).item() / window_steps
                    speed = (
                        tokens_per_step
                        * window_steps
                        / max(time.perf_counter() - window_start, 1e-9)
                    )
                    if world.is_main:
                        self._log(
                            step=self.step,
                            train_loss=loss,
                            train_bpc=loss / LN2,
                            lr=self.optimizer.param_groups[0]["lr"],
                            tokens_per_s=speed,
                        )
                        bar.set_postfix_str(
                            f"loss {loss / LN2:.3f} bpc, val {_bpc(self.last_val)}, "
                            f"{speed:,.0f} tok/s",
                            refresh=False,
                        )
                    bar.update(window_steps)
                    window_loss.zero_()
                    window_steps, window_start = 0, time.perf_counter()
                if self.step % config.eval_every == 0 or self.step == config.max_steps:
                    self.validate_and_save()
                wants_stop = interrupt.requested or (stop_when is not None and stop_when(self.step))
                out_of_time = False
                if deadline is not None:
                    now = time.monotonic()
                    step_s = (now - self.started) / max(1, self.step - first_step)
                    out_of_time = now + step_s + self.final_validation_s(step_s) > deadline
                if world.active and not at_log:
                    continue  # ranks agree on stopping only at log steps (one small all-reduce)
                if distributed.any_true(world, wants_stop, self.device):
                    stopped = "interrupted"
                    break
                if distributed.any_true(world, out_of_time, self.device):
                    stopped = "max_minutes"
                    break
            if stopped != "max_steps" and self.step % config.eval_every != 0:
                self.validate_and_save()
        bar.close()
        return TrainResult(
            self.run_dir, self.step, self.best_val, self.last_val, stopped, self.codec.name
        )

    def _log(self, **values) -> None:
        values["time"] = round(time.time(), 3)
        append_text(self.run_dir / "metrics.jsonl", json.dumps(values) + "\n")

    def _write_sample(self) -> None:
        """Append a sample to samples.jsonl / samples.txt: the run's 'watch it learn' record."""
        sample_config = SampleConfig(
            num=1, length=self.config.sample_length, temperature=0.8, seed=self.step
        )
        text = sample_texts(
            self.model, self.vocab, self.codec.separator, sample_config, self.device
        )[0]
        bpc = self.last_val / LN2
        record = {"step": self.step, "val_bpc": bpc, "text": text}
        append_text(self.run_dir / "samples.jsonl", json.dumps(record, ensure_ascii=False) + "\n")
        append_text(
            self.run_dir / "samples.txt",
            f"=== step {self.step}, validation {bpc:.3f} bits/char ===\n{text}\n\n",
        )


def _bpc(loss: float) -> str:
    """A validation loss in bits per character; '–' before the first validation."""
    return f"{loss / LN2:.3f}" if math.isfinite(loss) else "–"


def _default_sample_length(corpus: Corpus) -> int:
    """Long enough for a typical piece to finish (sampling stops at the separator anyway)."""
    report = corpus.report
    mean = report.train_tokens / max(1, report.train_pieces)
    return int(min(20000, max(500, 2 * mean)))


def _adam_options(device: torch.device) -> dict:
    return {"fused": True} if device.type == "cuda" else {"foreach": True}
