"""Position features counted from text, and finding the cells that track them."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnmusic.positions import (
    count_since,
    inside_brackets,
    inside_quotes,
    position_cells,
    position_features,
    since_last,
    structure_marks,
)

TAB = "e|0-.--.2-|--.-3.--|\n" * 4


def test_counts_follow_the_structure_marks():
    text = "ab|c.d.|e"
    assert since_last(text, "|").tolist() == [1, 2, 0, 1, 2, 3, 4, 0, 1]
    assert count_since(text, ".", "|").tolist() == [0, 0, 0, 0, 1, 1, 2, 0, 0]


def test_brackets_and_quotes_include_their_closing_mark():
    assert inside_brackets("a[bc]d", "[", "]").tolist() == [0, 1, 1, 1, 1, 0]
    assert inside_quotes('x"Am"y"G\nz', '"').tolist() == [0, 1, 1, 1, 1, 0, 1, 1, 0, 0]


def test_marks_are_frequent_punctuation_only():
    marks = structure_marks(TAB)
    assert marks[:3] == ["-", ".", "|"]
    assert not any(ch.isalnum() or ch == "\n" for ch in marks)


def test_features_are_named_for_people_and_never_constant():
    names = [f.name for f in position_features(TAB)]
    assert "column in the line" in names
    assert "number of '.' since the last '|'" in names  # the group within the bar
    assert all(f.values.std() > 0 for f in position_features(TAB))
    assert [f.name for f in position_features("abcd")] == ["column in the line"]  # no marks
    assert position_features("\n\n\n") == []  # nothing varies: no features


def test_a_cell_that_counts_groups_in_the_bar_is_found():
    text = TAB * 3
    group = count_since(text, ".", "|")
    rng = np.random.default_rng(0)
    activations = rng.normal(0, 1, (len(text), 40)).astype(np.float32)
    activations[:, 17] = np.tanh(group - 1) + rng.normal(0, 0.1, len(text))
    matches = position_cells(activations, position_features(text), count=5)
    assert matches[0].cell == 17
    assert matches[0].feature == "number of '.' since the last '|'"
    assert matches[0].r > 0.9
    assert len({m.cell for m in matches}) == len(matches) <= 5


def test_too_little_text_gives_no_cells():
    text = "a|b|c"
    assert position_cells(np.ones((len(text), 4)), position_features(text)) == []


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from('ab|.-[]"\n '), max_size=80))
def test_features_exist_for_any_text(text):
    for feature in position_features(text):
        assert feature.values.shape == (len(text),)
        assert np.isfinite(feature.values).all()
    activations = np.random.default_rng(1).normal(size=(len(text), 6))
    for match in position_cells(activations, position_features(text)):
        assert -1.0 <= match.r <= 1.0
