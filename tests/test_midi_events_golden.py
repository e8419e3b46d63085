"""The golden files in codecs/midi_events/golden pin the format: each input .mid must give the
expected .txt, which must decode cleanly to the expected .mid, byte for byte.

After a deliberate format change, rewrite the expectations with
`RNNMUSIC_UPDATE_GOLDEN=1 .venv/bin/pytest tests/test_midi_events_golden.py` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from midi_files import GOLDEN, beat_notes

from rnnmusic.codecs import get_codec

UPDATE = os.environ.get("RNNMUSIC_UPDATE_GOLDEN") == "1"

CASES = [  # input stem, codec options
    ("chorale-bwv66.6", {}),
    ("band", {}),
    ("band", {"velocity_bins": 8}),
    ("running-status", {}),
]


def expected_stem(stem: str, options: dict) -> str:
    return stem + "".join(f".{k.replace('_', '-')}-{v}" for k, v in options.items())


def check_or_update(path: Path, actual: bytes) -> None:
    if UPDATE:
        path.write_bytes(actual)
        return
    assert path.exists(), f"{path} is missing; run with RNNMUSIC_UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_bytes(), f"{path.name} differs from the codec's output"


@pytest.mark.parametrize(("stem", "options"), CASES, ids=[expected_stem(*c) for c in CASES])
def test_golden_midi_to_text_to_midi(stem, options, tmp_path):
    codec = get_codec("midi-events", **options)
    name = expected_stem(stem, options)
    [text] = codec.encode_file(GOLDEN / f"{stem}.mid")
    check_or_update(GOLDEN / f"{name}.txt", text.encode("utf-8") + b"\n")

    stored = (GOLDEN / f"{name}.txt").read_text(encoding="utf-8").removesuffix("\n")
    piece = codec.decode(stored)
    assert piece.repairs == []
    codec.write(piece, tmp_path / "out.mid")
    check_or_update(GOLDEN / f"{name}.decoded.mid", (tmp_path / "out.mid").read_bytes())


def test_golden_band_decodes_to_the_same_notes():
    """The hand-built band file lies on the grid: its decoded golden file has exactly its notes
    (drums, program change, bass) with velocities in the same bins."""
    plain = GOLDEN / "band.decoded.mid"
    binned = GOLDEN / "band.velocity-bins-8.decoded.mid"
    original = beat_notes(GOLDEN / "band.mid")

    def without_velocity(notes):
        return [n[:5] for n in notes]

    assert without_velocity(beat_notes(plain)) == without_velocity(original)
    assert {n[5] for n in beat_notes(plain)} == {80}
    bins = get_codec("midi-events", velocity_bins=8).bins
    assert [bins.bin(n[5]) for n in beat_notes(binned)] == [bins.bin(n[5]) for n in original]


def test_golden_sampled_text_decodes_with_the_expected_repairs(tmp_path):
    """A hand-written text with the mistakes a sampler makes decodes to the expected MIDI
    file, listing each repair."""
    codec = get_codec("midi-events")
    text = (GOLDEN / "sampled.txt").read_text(encoding="utf-8").removesuffix("\n")
    piece = codec.decode(text)
    check_or_update(GOLDEN / "sampled.repairs.txt", "\n".join(piece.repairs).encode() + b"\n")
    codec.write(piece, tmp_path / "out.mid")
    check_or_update(GOLDEN / "sampled.decoded.mid", (tmp_path / "out.mid").read_bytes())
    assert len(piece.repairs) == 10
