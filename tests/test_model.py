"""The fast sampling step computes exactly what the fused LSTM computes."""

from __future__ import annotations

import torch

from rnnmusic.model import CharRNN, ModelConfig, Stepper
from rnnmusic.sample import SampleConfig, pick_next, sample_texts


def test_stepper_matches_the_fused_lstm():
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(vocab_size=30, hidden_size=48, num_layers=3)).eval()
    tokens = torch.randint(0, 30, (5, 25))
    with torch.no_grad():
        fused, fused_state = model(tokens)
        stepper = Stepper(model)
        state = model.initial_state(5)
        for t in range(25):
            logits, state = stepper(tokens[:, t], state)
            torch.testing.assert_close(logits, fused[:, t], rtol=1e-4, atol=1e-5)
    for ours, theirs in zip(state, fused_state, strict=True):
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)


def test_top_k_one_is_argmax_and_top_p_keeps_the_nucleus():
    logits = torch.tensor([[0.0, 3.0, 1.0, 2.9], [5.0, 0.0, 0.0, 0.0]])
    gen = torch.Generator().manual_seed(0)
    for _ in range(20):
        picked = pick_next(logits, SampleConfig(top_k=1), gen)
        assert picked.tolist() == [1, 0]
    seen = set()
    for _ in range(200):
        seen.add(pick_next(logits[:1], SampleConfig(top_p=0.9), gen).item())
    assert seen == {1, 3}  # tokens 0 and 2 lie outside the 90% nucleus


def test_sampling_reports_progress_and_the_hook_changes_nothing():
    """`generate`'s progress bar hears the characters drawn so far, rising to the sample length,
    and the samples are the same with or without it."""
    torch.manual_seed(0)
    vocab = list("ab\n")
    model = CharRNN(ModelConfig(vocab_size=3, hidden_size=16, num_layers=1))
    config = SampleConfig(num=2, length=100, seed=3, stop_at_separator=False)
    heard: list[int] = []
    with_hook = sample_texts(model, vocab, "\n\n", config, progress=heard.append)
    assert heard == sorted(heard) and heard[0] > 0 and heard[-1] >= 90, heard
    assert len(heard) >= 5  # often enough for a bar to move
    assert sample_texts(model, vocab, "\n\n", config) == with_hook
