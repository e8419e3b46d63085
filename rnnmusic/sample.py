"""Sampling: many pieces in one batch, one cheap step per character, stop at the piece separator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from rnnmusic.bounds import number, whole
from rnnmusic.checkpoint import Checkpoint, load_checkpoint
from rnnmusic.checkpoint_meta import MAX_SAMPLE_LENGTH
from rnnmusic.constraints import Constraint
from rnnmusic.device import pick_device
from rnnmusic.errors import RnnMusicError
from rnnmusic.model import CharRNN, Stepper
from rnnmusic.profile import CHARS, CorpusProfile
from rnnmusic.vocabulary import check_known

STOP_CHECK_EVERY = 16  # steps between checks for finished samples (a check costs a sync)
MAX_NUM = 10_000  # samples per call: each becomes a file, and they share one batch in memory
MAX_PRIME = 100_000  # characters; a small model reads about 10,000 a second on one CPU core
MIN_TEMPERATURE, MAX_TEMPERATURE = 0.01, 100.0  # beyond these, logits / T overflows or is flat
MAX_SEED = 2**63 - 1
PRIME_CHUNK = 512  # prime characters fed per model call (memory stays flat however long)
FIRST_COLUMNS = 1024  # the output buffer starts this wide and doubles as samples grow


@dataclass
class SampleConfig:
    num: int = 1
    length: int = 2000
    temperature: float = 1.0
    top_k: int | None = None
    top_p: float | None = None
    argmax: bool = False
    prime: str | None = None
    seed: int | None = None
    stop_at_separator: bool = True
    strict: bool = False  # mask characters the codec's grammar forbids

    def check(self) -> None:
        """Every option within the bounds where sampling is meaningful and memory is bounded."""
        whole("--num", self.num, 1, MAX_NUM, "; run generate again with another --seed for more")
        whole("--length", self.length, 1, MAX_SAMPLE_LENGTH)
        if not self.argmax and not (
            MIN_TEMPERATURE <= number("--temperature", self.temperature) <= MAX_TEMPERATURE
        ):
            raise RnnMusicError(
                f"--temperature must lie between {MIN_TEMPERATURE:g} and {MAX_TEMPERATURE:g}, "
                f"not {self.temperature:g} (use --argmax for greedy sampling)"
            )
        if self.top_k is not None:
            whole("--top-k", self.top_k, 1, None)
        if self.top_p is not None and not 0 < number("--top-p", self.top_p) <= 1:
            raise RnnMusicError(f"--top-p must lie in (0, 1], not {self.top_p:g}")
        if self.seed is not None:
            whole("--seed", self.seed, 0, MAX_SEED)
        if self.prime is not None and len(self.prime) > MAX_PRIME:
            raise RnnMusicError(
                f"the prime has {len(self.prime):,} characters; rnnmusic starts samples from "
                f"at most {MAX_PRIME:,} (shorten it: the model remembers far less than that)"
            )


def encode_prime(prime: str, vocab: list[str]) -> list[int]:
    index = {ch: i for i, ch in enumerate(vocab)}
    check_known(
        prime,
        vocab,
        "the prime contains",
        f"use only characters of its {len(vocab)}-character vocabulary",
    )
    if not prime:
        raise RnnMusicError("the prime is empty; leave it out to start a fresh piece")
    return [index[ch] for ch in prime]


def pick_next(
    logits: torch.Tensor, config: SampleConfig, generator: torch.Generator
) -> torch.Tensor:
    """Token ids (B,) drawn from logits (B, V) with temperature, top-k and top-p (nucleus)."""
    if config.argmax:
        return logits.argmax(dim=-1)
    logits = logits.float() / config.temperature
    if config.top_k is not None and config.top_k < logits.size(-1):
        kth = torch.topk(logits, config.top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if config.top_p is not None and config.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        drop = probs.cumsum(dim=-1) - probs > config.top_p  # keeps at least the top token
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    probs = torch.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


@torch.inference_mode()
def sample_texts(
    model: CharRNN,
    vocab: list[str],
    separator: str,
    config: SampleConfig,
    device: torch.device | str = "cpu",
    constraint: Constraint | None = None,
    profile: CorpusProfile | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[str]:
    """Texts of `config.num` samples; each starts with the prime (if one was given). With a
    constraint, only characters its grammar allows are drawn, and with a profile each piece
    ends near a length drawn from the training pieces' lengths. `progress(steps)` hears how
    many characters each sample has had so far (every few steps; for a progress bar)."""
    config.check()
    device = torch.device(device)
    model.eval()
    user_prime = config.prime is not None
    prime_ids = encode_prime(config.prime if user_prime else separator, vocab)
    generator = torch.Generator(device=device)
    generator.manual_seed(config.seed if config.seed is not None else torch.seed() % 2**63)

    batch = config.num
    state = model.initial_state(batch, device)
    state = primed_state(model, prime_ids[:-1], state)
    last = torch.full((batch,), prime_ids[-1], dtype=torch.long, device=device)
    if constraint is not None:
        constraint.reset(batch, device)
        constraint.draw(generator)
        if config.length < constraint.shortest_piece():
            raise RnnMusicError(
                f"--length {config.length} is too short for a whole piece with --strict "
                f"(at least {constraint.shortest_piece()} characters)"
            )
        if user_prime:
            constraint.feed(config.prime, vocab)
        budget = PieceBudget.draw(profile, config, len(config.prime or ""), generator, device)
    stepper = Stepper(model, batch)
    out = torch.empty(batch, min(config.length, FIRST_COLUMNS), dtype=torch.long, device=device)
    table = list(vocab)
    finished = [False] * batch
    steps = config.length
    for t in range(config.length):
        logits, state = stepper(last, state)
        if constraint is not None:
            ok = constraint.allowed(budget.steps_left(t), budget.may_end(t))
            budget.honour_wish_to_end(constraint, logits, ok, config, generator, t)
            logits = logits.masked_fill(~ok, float("-inf"))
        last = pick_next(logits, config, generator)
        if t == out.size(1):  # memory grows with the samples, not with --length
            out = torch.cat([out, torch.empty_like(out[:, : config.length - t])], dim=1)
        out[:, t] = last
        if constraint is not None:
            constraint.advance(last)
        if progress is not None and t % STOP_CHECK_EVERY == STOP_CHECK_EVERY - 1:
            progress(t + 1)
        if config.stop_at_separator and t % STOP_CHECK_EVERY == STOP_CHECK_EVERY - 1:
            if constraint is not None:
                finished = constraint.done().tolist()
            else:
                window = out[:, max(0, t + 1 - STOP_CHECK_EVERY - len(separator)) : t + 1]
                for row, ids in enumerate(window.tolist()):
                    if not finished[row] and separator in "".join(table[i] for i in ids):
                        finished[row] = True
            if all(finished):
                steps = t + 1
                break

    texts = []
    prefix = config.prime if user_prime else ""
    for row in out[:, :steps].tolist():
        body = "".join(table[i] for i in row)
        if config.stop_at_separator and separator in body:
            body = body[: body.index(separator)]
        texts.append(prefix + body)
    return texts


def primed_state(model: CharRNN, ids: list[int], state: tuple) -> tuple:
    """`state` (for B samples) after reading `ids`: read once, in chunks, and shared by all B
    samples, so neither time nor memory grows with the number of samples or the prime's length."""
    if not ids:
        return state
    batch = state[0].size(1)
    one = tuple(s[:, :1].contiguous() for s in state)
    device = state[0].device
    for start in range(0, len(ids), PRIME_CHUNK):
        chunk = torch.tensor([ids[start : start + PRIME_CHUNK]], device=device)
        _, one = model(chunk, one)
    return tuple(s.expand(-1, batch, -1).contiguous() for s in one)


class PieceBudget:
    """How long each strict sample may run: a target drawn from the training pieces' lengths;
    the piece may end from EARLIEST × target on and must close by LATEST × target (never past
    `--length`). Without a profile: any time, by `--length`."""

    EARLIEST, LATEST = 0.75, 1.25

    def __init__(self, earliest: torch.Tensor, deadline: torch.Tensor):
        self.earliest, self.deadline = earliest, deadline

    @classmethod
    def draw(cls, profile, config: SampleConfig, primed: int, generator, device) -> PieceBudget:
        batch, length = config.num, config.length
        deadline = torch.full((batch,), length, dtype=torch.long, device=device)
        earliest = torch.zeros(batch, dtype=torch.long, device=device)
        if profile is not None and profile.quantile(CHARS, 0.5) is not None:
            shares = torch.rand(batch, generator=generator, device=device).tolist()
            targets = [profile.quantile(CHARS, q) for q in shares]
            for i, target in enumerate(targets):
                deadline[i] = min(length, max(1, int(cls.LATEST * target) - primed))
                # a piece cut short by --length may end from 3/4 of it on
                earliest[i] = min(int(cls.EARLIEST * target) - primed, int(0.75 * deadline[i]))
        return cls(earliest, deadline)

    def steps_left(self, t: int) -> torch.Tensor:
        return self.deadline - t

    def may_end(self, t: int) -> torch.Tensor:
        return self.earliest <= t

    def honour_wish_to_end(self, constraint, logits, ok, config, generator, t: int) -> None:
        """Where the model would end the piece now but the grammar forbids it (a note still
        sounds), close it, as often as the model asks: with the ending masked out instead, it
        would run on for hundreds of characters it never meant to write."""
        blocked = constraint.ending() & ~ok & self.may_end(t)[:, None]
        if not bool(blocked.any()):
            return
        temperature = 1.0 if config.argmax else config.temperature
        probs = torch.softmax(logits.float() / temperature, dim=-1)
        wish = (probs * blocked).sum(1)
        draw = torch.rand(wish.shape, generator=generator, device=wish.device)
        constraint.close(draw < wish)


class Samples(list):
    """Sample texts, plus how many were drawn again because they held no notes (`redrawn`)
    and the positions of those that still held none after MAX_DRAWS draws (`empty`)."""

    def __init__(self, texts=(), redrawn: int = 0, empty: list[int] | None = None):
        super().__init__(texts)
        self.redrawn = redrawn
        self.empty: list[int] = empty or []


MAX_DRAWS = 4  # a sample with no notes is drawn again at most this many times in all


def generate(
    checkpoint: Checkpoint | str | Path,
    config: SampleConfig,
    device: str = "auto",
    progress: Callable[[int], None] | None = None,
) -> Samples:
    """Sample texts from a checkpoint (or run folder); decode them with `checkpoint.codec()`.
    A sample that decodes to no notes is drawn again (a file without notes is no sample of
    music); `progress` as in `sample_texts`."""
    ckpt = checkpoint if isinstance(checkpoint, Checkpoint) else load_checkpoint(checkpoint)
    dev = pick_device(device)
    model = ckpt.model(dev)
    codec = ckpt.codec()
    separator = ckpt.info.separator or codec.separator
    profile = ckpt.profile if config.strict else None

    def draw(settings: SampleConfig) -> list[str]:
        constraint = codec.constraint(ckpt.vocab, profile) if settings.strict else None
        return sample_texts(
            model, ckpt.vocab, separator, settings, dev, constraint, profile, progress=progress
        )

    texts = draw(config)
    empty = [i for i, text in enumerate(texts) if _holds_no_notes(codec, text)]
    redrawn = 0
    for attempt in range(1, MAX_DRAWS):
        if not empty:
            break
        seed = None if config.seed is None else (config.seed + 1_000_003 * attempt) % 2**63
        again = draw(replace(config, num=len(empty), seed=seed))
        redrawn += len(empty)
        for i, text in zip(empty, again, strict=True):
            texts[i] = text
        empty = [i for i in empty if _holds_no_notes(codec, texts[i])]
    return Samples(texts, redrawn=redrawn, empty=empty)


def _holds_no_notes(codec, text: str) -> bool:
    return codec.count_notes(codec.decode(text)) == 0
