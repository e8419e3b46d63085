"""Pictures: piano rolls of MIDI files and the learning curve of a run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import assert_user_error
from helpers import counting_corpus, tiny_config
from PIL import Image
from viz_helpers import write_midi

from rnnmusic.plots import (
    BASELINE_COLOUR,
    ROLL_HEIGHT_PX,
    VALID_COLOUR,
    loss_curve,
    piano_roll,
    read_metrics,
    roll_width,
)
from rnnmusic.train import fit

WHITE = (255, 255, 255)
MELODY = [(60, 0.0, 1.0), (64, 1.0, 2.0), (67, 2.5, 3.5), (72, 4.5, 5.5)]
BASS = [(36, 0.0, 1.5), (43, 2.5, 4.0)]


def pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[i : i + 2], 16) for i in (1, 3, 5)])


def near(image: np.ndarray, colour: np.ndarray, tolerance: int = 40) -> np.ndarray:
    return np.abs(image.astype(int) - colour).sum(axis=-1) < tolerance


def test_piano_roll_draws_each_note_where_it_sounds(tmp_path):
    midi = write_midi(tmp_path / "duet.mid", MELODY, BASS, programs=(0, 32))
    geometry = piano_roll(midi, tmp_path / "duet.png")
    image = pixels(tmp_path / "duet.png")
    assert image.shape == (ROLL_HEIGHT_PX, 800, 3)  # a 5.5 s piece gets the minimum width
    assert (geometry.width, geometry.height) == (800, ROLL_HEIGHT_PX)
    colours = []
    for notes in (MELODY, BASS):
        for pitch, start, end in notes:
            col, row = geometry.pixel((start + end) / 2, pitch)
            assert tuple(image[row, col]) != WHITE, (pitch, start)
            colours.append(tuple(image[row, col]))
            # three semitones above the note, at the same moment, there is nothing
            col, row = geometry.pixel((start + end) / 2, pitch + 3)
            assert tuple(image[row, col]) == WHITE, (pitch + 3, start)
    melody_colours, bass_colours = set(colours[: len(MELODY)]), set(colours[len(MELODY) :])
    assert len(melody_colours) == 1 and len(bass_colours) == 1
    assert melody_colours != bass_colours  # one colour per instrument
    # time runs left to right, pitch bottom to top
    assert geometry.pixel(0.5, 60)[0] < geometry.pixel(5.0, 72)[0]
    assert geometry.pixel(0.5, 60)[1] > geometry.pixel(5.0, 72)[1]


def test_longer_pieces_get_wider_rolls(cli, tmp_path):
    notes = [(60 + i % 12, i * 0.5, i * 0.5 + 0.4) for i in range(60)]  # 30 s
    midi = write_midi(tmp_path / "long.mid", notes)
    result = cli("plot", midi)
    assert result.returncode == 0, result.stderr
    image = pixels(tmp_path / "long.png")  # default output: next to the input
    assert image.shape[:2] == (ROLL_HEIGHT_PX, roll_width(29.9))
    assert image.shape[1] > 1800


def test_roll_of_a_midi_without_notes_is_still_drawn(tmp_path):
    midi = write_midi(tmp_path / "silent.mid", [])
    piano_roll(midi, tmp_path / "silent.png")
    assert pixels(tmp_path / "silent.png").shape == (ROLL_HEIGHT_PX, 800, 3)


def test_damaged_midi_is_a_clear_error(cli, tmp_path):
    data = write_midi(tmp_path / "m.mid", MELODY).read_bytes()
    (tmp_path / "cut.mid").write_bytes(data[:30])
    assert_user_error(cli("plot", tmp_path / "cut.mid"), "cut.mid", "truncated")
    assert not (tmp_path / "cut.png").exists()


# -- learning curve -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("curve")
    corpus = counting_corpus(tmp / "count.txt")
    return fit(tiny_config(corpus, tmp / "run", max_steps=40, eval_every=10)).run_dir


def test_loss_curve_shows_training_and_validation(cli, run_dir):
    result = cli("plot", run_dir)
    assert result.returncode == 0, result.stderr
    image = pixels(run_dir / "loss.png")
    assert image.shape == (560, 1000, 3)
    assert near(image, rgb(VALID_COLOUR)).sum() > 200  # the validation line and its markers
    assert near(image, rgb(BASELINE_COLOUR)).sum() == 0  # no eval.json: no baseline


def test_loss_curve_draws_the_ngram_baseline_when_evaluated(run_dir, tmp_path):
    metrics = read_metrics(run_dir)
    lowest = min(bpc for _, bpc in metrics.train + metrics.valid)
    baseline = lowest - 0.5  # below every point of the curve, so the axis must stretch to it
    copy = tmp_path / "run"
    copy.mkdir()
    (copy / "metrics.jsonl").write_bytes((run_dir / "metrics.jsonl").read_bytes())
    (copy / "eval.json").write_text(json.dumps({"ngram_bpc": baseline, "valid_bpc": lowest}))
    geometry = loss_curve(copy, tmp_path / "curve.png")
    image = pixels(tmp_path / "curve.png")
    red = near(image, rgb(BASELINE_COLOUR))
    left, row = geometry.pixel(5, baseline)
    right, _ = geometry.pixel(35, baseline)
    band = red[row - 2 : row + 3, left:right].any(axis=0)
    assert band.mean() > 0.5  # a dashed horizontal line at the baseline's height


def test_metrics_of_a_resumed_or_interrupted_run(tmp_path):
    lines = [
        {"step": 10, "train_bpc": 3.0},
        {"step": 20, "val_bpc": 2.5, "val_loss": 1.7},
        {"step": 20, "val_bpc": 2.4, "val_loss": 1.6},  # resumed: step 20 again, newer wins
        {"step": 30, "train_bpc": 2.0},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + '\n{"step": 40, "train_b'
    (tmp_path / "metrics.jsonl").write_text(text)  # the last line was cut by a crash
    metrics = read_metrics(tmp_path)
    assert metrics.train == [(10, 3.0), (30, 2.0)]
    assert metrics.valid == [(20, 2.4)]
    assert metrics.ngram_bpc is None


def test_plot_of_a_folder_that_is_no_run(cli, tmp_path):
    assert_user_error(cli("plot", tmp_path), "metrics.jsonl")
    assert_user_error(cli("plot", tmp_path / "nowhere"), "does not exist")


@pytest.mark.parametrize("best_at", ["first", "last"])
def test_best_validation_label_stays_inside_the_picture(tmp_path, best_at):
    """The label of the best validation loss sits by its point; when that point is the last
    one (a run still improving), the label must not run past the plot into the cut-off edge."""
    losses = [3.6, 3.5, 3.45, 3.401] if best_at == "last" else [3.2, 3.5, 3.45, 3.6]
    lines = [{"step": step, "train_bpc": 4.0 - step / 100} for step in range(10, 410, 10)]
    lines += [{"step": 100 * (i + 1), "val_bpc": bpc} for i, bpc in enumerate(losses)]
    (tmp_path / "metrics.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    geometry = loss_curve(tmp_path, tmp_path / "loss.png")
    green = near(pixels(tmp_path / "loss.png"), rgb(VALID_COLOUR))
    left, _, right, _ = geometry.box
    columns = np.flatnonzero(green.any(axis=0))
    assert columns.min() >= left - 6 and columns.max() <= right + 6, (columns.min(), columns.max())
    best_step = 400 if best_at == "last" else 100
    col, row = geometry.pixel(best_step, min(losses))
    below = green[row + 8 : row + 30]  # the text under the marker
    assert below.sum() > 25, "the best label is not drawn under its point"
