"""Musical position, measured from the text alone, and the cells that track it.

Every codec marks structure with punctuation: bar lines `|`, tab groups split by `.`, ABC chord
brackets `[…]` and chord symbols in quotes, line breaks. Counting from those characters — how far
since the last `|`, how many `.` since the last `|`, inside brackets or not — gives position
features for any codec without knowing its grammar; the cells whose activations correlate best
with one of them are the ones that learned where in the music the model is."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

MAX_MARKS = 8  # most frequent punctuation characters used as structure marks
MIN_MARK_COUNT = 3
MIN_CHARACTERS = 30  # fewer than this and correlations mean little
BRACKETS = (("[", "]"), ("(", ")"), ("{", "}"), ("<", ">"))
QUOTES = ('"', "'", "`")


@dataclass(frozen=True)
class Feature:
    name: str  # what it measures, as the page shows it
    values: np.ndarray  # (T,): its value after reading character t


@dataclass(frozen=True)
class CellMatch:
    cell: int
    feature: str
    r: float  # Pearson correlation of the cell's activation with the feature


def shown(ch: str) -> str:
    return {"\n": "line break", " ": "space", "\t": "tab"}.get(ch, f"'{ch}'")


def structure_marks(text: str) -> list[str]:
    """Punctuation and spaces frequent enough to mark structure (line breaks are handled apart)."""
    counts = Counter(ch for ch in text if not ch.isalnum() and ch != "\n")
    frequent = [(n, ch) for ch, n in counts.items() if n >= MIN_MARK_COUNT]
    return [ch for _, ch in sorted(frequent, key=lambda item: (-item[0], item[1]))[:MAX_MARKS]]


def since_last(text: str, mark: str) -> np.ndarray:
    """Characters read since the last `mark` (0 on the mark itself)."""
    out = np.empty(len(text), dtype=np.float32)
    distance = 0
    for t, ch in enumerate(text):
        distance = 0 if ch == mark else distance + 1
        out[t] = distance
    return out


def count_since(text: str, inner: str, outer: str) -> np.ndarray:
    """How many `inner` marks since the last `outer` one: e.g. which group of the bar."""
    out = np.empty(len(text), dtype=np.float32)
    count = 0
    for t, ch in enumerate(text):
        if ch == outer:
            count = 0
        elif ch == inner:
            count += 1
        out[t] = count
    return out


def inside_brackets(text: str, opening: str, closing: str) -> np.ndarray:
    out = np.empty(len(text), dtype=np.float32)
    depth = 0
    for t, ch in enumerate(text):
        if ch == opening:
            depth += 1
        elif ch == closing:
            depth = max(0, depth - 1)
        out[t] = 1.0 if depth > 0 or ch == closing else 0.0
    return out


def inside_quotes(text: str, quote: str) -> np.ndarray:
    """Between an opening and a closing quote; a line break ends an unclosed quote."""
    out = np.empty(len(text), dtype=np.float32)
    inside = False
    for t, ch in enumerate(text):
        closing = inside and ch == quote
        if ch == quote:
            inside = not inside
        elif ch == "\n":
            inside = False
        out[t] = 1.0 if inside or closing else 0.0
    return out


def position_features(text: str) -> list[Feature]:
    """All position features that vary in this text."""
    if not text:
        return []
    features = [Feature("column in the line", since_last(text, "\n"))]
    marks = structure_marks(text)
    for mark in marks:
        features.append(Feature(f"characters since the last {shown(mark)}", since_last(text, mark)))
    counts = Counter(text)
    outers = (["\n"] if "\n" in text else []) + marks
    for outer in outers:
        for inner in marks:
            if counts[inner] > counts[outer]:  # a coarser mark holds several finer ones
                name = f"number of {shown(inner)} since the last {shown(outer)}"
                features.append(Feature(name, count_since(text, inner, outer)))
    for opening, closing in BRACKETS:
        if opening in text and closing in text:
            features.append(
                Feature(f"inside {opening} {closing}", inside_brackets(text, opening, closing))
            )
    for quote in QUOTES:
        if text.count(quote) >= 2:
            features.append(Feature(f"inside {quote} {quote}", inside_quotes(text, quote)))
    return [f for f in features if f.values.std() > 0]


def correlations(activations: np.ndarray, features: list[Feature]) -> np.ndarray:
    """(cells, features) Pearson correlations; 0 where a cell never changes."""
    if not features:
        return np.zeros((activations.shape[1], 0), dtype=np.float32)
    a = activations.astype(np.float64)
    f = np.stack([feature.values for feature in features], axis=1).astype(np.float64)
    a = a - a.mean(axis=0)
    f = f - f.mean(axis=0)
    a_norm = np.linalg.norm(a, axis=0)
    f_norm = np.linalg.norm(f, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (a.T @ f) / np.outer(a_norm, f_norm)
    return np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def position_cells(
    activations: np.ndarray, features: list[Feature], count: int = 16
) -> list[CellMatch]:
    """Cells that track position best, strongest first: first the best cell of each feature
    (so one feature cannot fill the list), then the next strongest cells; each cell once."""
    if activations.shape[0] < MIN_CHARACTERS or not features:
        return []
    r = correlations(activations, features)
    strength = np.abs(r)
    chosen: dict[int, CellMatch] = {}

    def take(cell: int, feature: int) -> None:
        if cell not in chosen and len(chosen) < count and strength[cell, feature] > 0:
            chosen[cell] = CellMatch(int(cell), features[feature].name, float(r[cell, feature]))

    leaders = [(int(strength[:, j].argmax()), j) for j in range(len(features))]
    for cell, feature in sorted(leaders, key=lambda cf: -strength[cf[0], cf[1]]):
        take(cell, feature)
    best_feature = strength.argmax(axis=1)
    for cell in np.argsort(-strength.max(axis=1)):
        take(int(cell), int(best_feature[cell]))
    return sorted(chosen.values(), key=lambda m: -abs(m.r))
