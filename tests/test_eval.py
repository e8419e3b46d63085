"""`rnnmusic eval` and `rnnmusic baseline` on a real (tiny) run."""

from __future__ import annotations

import json

import pytest
from helpers import counting_corpus, tiny_config

from rnnmusic.corpus import Corpus
from rnnmusic.ngram import baseline
from rnnmusic.train import fit


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eval")
    corpus = counting_corpus(tmp / "count.txt", pieces=200)
    fit(tiny_config(corpus, tmp / "run", max_steps=250, eval_every=125))
    return tmp / "run"


@pytest.mark.slow
def test_eval_writes_the_yardstick(run, cli):
    result = cli("eval", run, "--num", "12", "--seed", "3")
    assert result.returncode == 0, result.stderr
    report = json.loads((run / "eval.json").read_text())
    for key in ("valid_bpc", "ngram_bpc", "samples", "samples_clean", "repairs_per_1000_chars"):
        assert key in report
    assert report["samples"] == 12 and report["samples_clean"] == 12  # text never needs repairs
    corpus = Corpus.load(run / "corpus")
    expected = baseline(corpus.tokens("train"), corpus.tokens("valid"), len(corpus.vocab))
    assert report["ngram_bpc"] == pytest.approx(expected.best_bpc)
    assert report["valid_bpc"] < 1.5  # the counting text is nearly deterministic
    assert 0.0 <= report["copy_rate_32"] <= 1.0
    assert "n-gram bits/char" in result.stdout and "validation bits/char" in result.stdout


def test_baseline_command_prints_every_order(run, cli):
    result = cli("baseline", run / "corpus", "--max-order", "6")
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("order")]
    assert len(lines) == 6 and sum("← best" in line for line in lines) == 1


def test_tab_statistics_count_silence_and_playable_chords():
    from rnnmusic.codecs import get_codec

    codec = get_codec("tab")
    piece = codec.decode("g16\n-32---.-==---.------.|\n------.-5-a--.|")
    assert piece.repairs == []
    stats = codec.piece_stats(piece)
    assert stats["groups"] == 5
    assert stats["silent_group_share"] == 2 / 5
    assert stats["playable_share"] == 0.5  # frets 5 and 10 together: a stretch past four frets
    assert stats["pitched_notes"] == 4 and stats["dead_note_share"] == 0.0
    clicks = codec.piece_stats(codec.decode("g16\n-----x.-----x.---3--.|"))
    assert clicks["pitched_notes"] == 1 and clicks["dead_note_share"] == 2 / 3
