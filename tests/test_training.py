"""The engine learns, resumes exactly, and samples reproducibly."""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
import torch
from helpers import counting_corpus, tiny_config

from rnnmusic.checkpoint import load_checkpoint
from rnnmusic.errors import RnnMusicError
from rnnmusic.sample import SampleConfig, generate
from rnnmusic.train import fit


def unigram_entropy_bits(text: str) -> float:
    counts = Counter(text)
    total = sum(counts.values())
    return -sum(c / total * math.log2(c / total) for c in counts.values())


def test_tiny_model_learns_a_deterministic_corpus(tmp_path):
    corpus = counting_corpus(tmp_path / "count.txt", pieces=200)
    h1 = unigram_entropy_bits(corpus.read_text())
    result = fit(tiny_config(corpus, tmp_path / "run", max_steps=300, eval_every=100))
    assert h1 > 3.0
    # the text is predictable from context: the LSTM must get far below the unigram entropy
    assert result.best_val_bpc < 0.35 * h1, (result.best_val_bpc, h1)
    metrics = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    vals = [m["val_bpc"] for m in metrics if "val_bpc" in m]
    assert vals[-1] < vals[0]
    samples = [json.loads(line) for line in (tmp_path / "run" / "samples.jsonl").open()]
    assert [s["step"] for s in samples] == [100, 200, 300]


def test_resume_continues_exactly(tmp_path):
    corpus = counting_corpus(tmp_path / "count.txt")
    straight = fit(tiny_config(corpus, tmp_path / "straight", dropout=0.2, max_steps=40))
    stopped = fit(
        tiny_config(corpus, tmp_path / "resumed", dropout=0.2, max_steps=40),
        stop_when=lambda step: step == 17,
    )
    assert stopped.stopped == "interrupted" and stopped.step == 17
    resumed = fit(tiny_config(corpus, None, max_steps=None), resume=tmp_path / "resumed")
    assert resumed.step == 40
    a = load_checkpoint(tmp_path / "straight" / "last.safetensors").group("model")
    b = load_checkpoint(tmp_path / "resumed" / "last.safetensors").group("model")
    for name in a:
        torch.testing.assert_close(a[name], b[name], rtol=0, atol=1e-6)
    assert resumed.last_val_loss == pytest.approx(straight.last_val_loss, abs=1e-6)


def test_tied_weights_train_resume_exactly_and_stay_tied(tmp_path):
    """`--tie-weights`: the output layer is the embedding's matrix, in training, in the file and
    after a resume, which carries on exactly as an uninterrupted run."""
    corpus = counting_corpus(tmp_path / "count.txt")
    straight = fit(tiny_config(corpus, tmp_path / "straight", tie_weights=True, max_steps=40))
    fit(
        tiny_config(corpus, tmp_path / "resumed", tie_weights=True, max_steps=40),
        stop_when=lambda step: step == 17,
    )
    resumed = fit(tiny_config(corpus, None, max_steps=None), resume=tmp_path / "resumed")
    assert resumed.last_val_loss == pytest.approx(straight.last_val_loss, abs=1e-6)
    ckpt = load_checkpoint(tmp_path / "resumed" / "last.safetensors")
    model = ckpt.model()
    assert ckpt.info.model.tie_weights and model.head.weight is model.embed.weight
    untied = fit(tiny_config(corpus, tmp_path / "untied", tie_weights=False, max_steps=5))
    plain = load_checkpoint(untied.run_dir / "last.safetensors").model()
    assert model.num_parameters() == plain.num_parameters() - plain.head.weight.numel()
    assert len(generate(ckpt, SampleConfig(num=2, length=20, seed=3))) == 2


def test_same_seed_same_samples_and_different_seeds_differ(tmp_path):
    corpus = counting_corpus(tmp_path / "count.txt")
    fit(tiny_config(corpus, tmp_path / "run"))
    ckpt = load_checkpoint(tmp_path / "run")
    config = dict(num=4, length=80, temperature=1.0, stop_at_separator=False)
    first = generate(ckpt, SampleConfig(seed=7, **config))
    again = generate(ckpt, SampleConfig(seed=7, **config))
    other = generate(ckpt, SampleConfig(seed=8, **config))
    assert first == again
    assert first != other
    assert len(first) == 4 and all(len(t) == 80 for t in first)


def test_prime_is_kept_and_unknown_characters_are_refused(tmp_path):
    corpus = counting_corpus(tmp_path / "count.txt")
    fit(tiny_config(corpus, tmp_path / "run"))
    texts = generate(tmp_path / "run", SampleConfig(num=2, length=30, prime="seven ", seed=1))
    assert all(t.startswith("seven ") for t in texts)
    with pytest.raises(RnnMusicError, match="never saw in training"):
        generate(tmp_path / "run", SampleConfig(prime="SEVEN", seed=1))


def test_a_second_run_into_a_used_folder_is_refused(tmp_path):
    corpus = counting_corpus(tmp_path / "count.txt")
    fit(tiny_config(corpus, tmp_path / "run", max_steps=5, eval_every=5))
    with pytest.raises(RnnMusicError, match="already holds a training run"):
        fit(tiny_config(corpus, tmp_path / "run", max_steps=5))


def test_gru_and_vanilla_rnn_cells_train_and_sample(tmp_path):
    corpus = counting_corpus(tmp_path / "count.txt")
    for cell in ("gru", "rnn"):
        fit(tiny_config(corpus, tmp_path / cell, cell=cell, max_steps=10, eval_every=10))
        texts = generate(tmp_path / cell, SampleConfig(num=2, length=20, seed=3))
        assert len(texts) == 2


class StepClock:
    """A clock for `rnnmusic.train` in which a training step takes 1 s and a validation 30 s,
    so the time budget is tested without waiting or depending on the machine's load."""

    def __init__(self):
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def perf_counter(self) -> float:
        return self.now

    def time(self) -> float:
        return 1.7e9 + self.now


def test_max_minutes_includes_the_final_validation(tmp_path, monkeypatch, capsys):
    import rnnmusic.train as train

    clock = StepClock()
    monkeypatch.setattr(train, "time", clock)
    real_step, real_validation = train.Training.train_step, train.validation_loss

    def one_second_step(self, step):
        clock.now += 1.0
        return real_step(self, step)

    def slow_validation(*args, **kwargs):
        clock.now += 30.0
        return real_validation(*args, **kwargs)

    monkeypatch.setattr(train.Training, "train_step", one_second_step)
    monkeypatch.setattr(train, "validation_loss", slow_validation)
    corpus = counting_corpus(tmp_path / "count.txt")
    config = tiny_config(corpus, tmp_path / "run", max_steps=10_000, eval_every=50)
    config.max_minutes = 5
    result = fit(config)
    assert result.stopped == "max_minutes"
    assert clock.now <= 300, f"the run ended {clock.now - 300:.0f} s past its 5-minute budget"
    assert clock.now >= 300 - 35, f"the run left {300 - clock.now:.0f} s of its budget unused"
    assert math.isfinite(result.last_val_loss)
    assert load_checkpoint(tmp_path / "run" / "last.safetensors").meta["step"] == result.step
    assert capsys.readouterr().out.startswith(f"run folder: {tmp_path / 'run'}")


def test_a_timed_run_ends_its_learning_rate_decay_within_the_budget(tmp_path, monkeypatch):
    """`--max-minutes` far short of `max_steps`: the cosine decay must follow the clock and reach
    its floor at the end instead of being cut off near the peak; a resume does not raise it."""
    import rnnmusic.train as train

    clock = StepClock()
    monkeypatch.setattr(train, "time", clock)
    real_step = train.Training.train_step

    def one_second_step(self, step):
        clock.now += 1.0
        return real_step(self, step)

    monkeypatch.setattr(train.Training, "train_step", one_second_step)
    corpus = counting_corpus(tmp_path / "count.txt")
    config = tiny_config(corpus, tmp_path / "run", max_steps=10_000, eval_every=50, log_every=1)
    config.max_minutes = 3
    result = fit(config)
    assert result.stopped == "max_minutes" and 150 < result.step <= 180
    rates = [
        m["lr"] for m in map(json.loads, (tmp_path / "run" / "metrics.jsonl").open()) if "lr" in m
    ]
    peak, floor = config.learning_rate, config.learning_rate * config.min_lr_ratio
    assert max(rates) == pytest.approx(peak, rel=0.01)
    assert rates[-1] < floor * 1.1, f"the run stopped at lr {rates[-1]:.2e}, floor {floor:.2e}"
    after_warmup = rates[config.warmup_steps :]
    assert all(b <= a + 1e-12 for a, b in zip(after_warmup[:-1], after_warmup[1:], strict=True))

    fit(tiny_config(corpus, None, max_steps=result.step + 20), resume=tmp_path / "run")
    rates = [
        m["lr"] for m in map(json.loads, (tmp_path / "run" / "metrics.jsonl").open()) if "lr" in m
    ]
    assert max(rates[-20:]) < floor * 1.1, "the resumed run climbed back up the schedule"
