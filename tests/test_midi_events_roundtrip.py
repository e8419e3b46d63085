"""Round trip on real files: MIDI → text → MIDI, compared note by note with pretty_midi (an
independent reader): chorales converted from music21's corpus, a band with drums and a program
change, a melody with tempo changes."""

from __future__ import annotations

from collections import defaultdict
from fractions import Fraction

import pytest
from midi_files import GOLDEN, band_file, beat_notes, second_notes, tempo_change_file

from rnnmusic.codecs import get_codec
from rnnmusic.codecs.midi_events.corpus import chorale_scores, convert_chorales

CHORALES = ["bwv1.6", "bwv10.7", "bwv101.7", "bwv110.7", "bwv13.6"]


@pytest.fixture(scope="module")
def chorale_midi(tmp_path_factory):
    folder = tmp_path_factory.mktemp("chorales")
    sources = [p for p in chorale_scores() if p.stem in CHORALES]
    assert convert_chorales(sources, folder, jobs=2, progress=False) == {}
    return sorted(folder.glob("*.mid"))


def round_trip(path, tmp_path, **options):
    codec = get_codec("midi-events", **options)
    pieces = codec.encode_file(path)
    out = tmp_path / f"{path.stem}.out.mid"
    piece = codec.decode(pieces[0])
    assert piece.repairs == []
    codec.write(piece, out)
    return out


def what_is_heard(notes, ticks_per_beat=4):
    """Per instrument: which keys sound in which tick, and where each key is struck. Two voices
    on one key sound as one key, so this is what a listener can compare."""
    sounding, struck = defaultdict(set), defaultdict(set)
    for program, is_drum, pitch, start, end, _ in notes:
        instrument = (program, is_drum)
        first, last = int(start * ticks_per_beat), int(end * ticks_per_beat)
        sounding[instrument] |= {(pitch, t) for t in range(first, last)}
        struck[instrument].add((pitch, first))
    return dict(sounding), dict(struck)


def on_grid(notes, ticks_per_beat=4) -> bool:
    return all((t * ticks_per_beat).denominator == 1 for n in notes for t in (n[3], n[4]))


def test_chorales_sound_the_same_after_a_round_trip(chorale_midi, tmp_path):
    assert [p.stem for p in chorale_midi] == sorted(CHORALES)
    for path in chorale_midi:
        original = beat_notes(path)
        assert on_grid(original), f"{path.name} is not on the sixteenth grid"
        returned = beat_notes(round_trip(path, tmp_path))
        assert what_is_heard(returned) == what_is_heard(original), path.name
        # unisons between voices merge, so never more notes than onsets in the original
        assert len(returned) == len({(n[0], n[1], n[2], n[3]) for n in original}), path.name


def test_chorale_without_unisons_keeps_every_note_exactly(tmp_path):
    """In the golden chorale, the few unisons aside, each note comes back with its own end."""
    path = GOLDEN / "chorale-bwv66.6.mid"
    original = {n[2:5] for n in beat_notes(path)}
    returned = {n[2:5] for n in beat_notes(round_trip(path, tmp_path))}
    assert len(returned & original) >= 0.95 * len(original)
    assert {(p, s) for p, s, _ in returned} == {(p, s) for p, s, _ in original}


def test_band_with_drums_and_program_change_comes_back_exactly(tmp_path):
    path = band_file(tmp_path / "band.mid")
    original = beat_notes(path)
    assert {(n[0], n[1]) for n in original} == {(0, False), (48, False), (33, False), (0, True)}
    returned = beat_notes(round_trip(path, tmp_path, velocity_bins=16))
    assert [n[:5] for n in returned] == [n[:5] for n in original]
    bins = get_codec("midi-events", velocity_bins=16).bins
    assert [bins.bin(n[5]) for n in returned] == [bins.bin(n[5]) for n in original]
    assert second_notes(round_trip(path, tmp_path)) == second_notes(path)  # 100 → 140 BPM


def test_tempo_changes_keep_every_note_at_its_time_in_seconds(tmp_path):
    path = tempo_change_file(tmp_path / "tempo.mid")
    original = second_notes(path)
    # 8 beats at 90 BPM, 4 at 150, 2 at 60: timing only the tempo changes explain
    assert max(n[4] for n in original) == pytest.approx(8 * 60 / 90 + 4 * 60 / 150 + 2, abs=1e-3)
    assert second_notes(round_trip(path, tmp_path)) == original


def test_a_different_grid_round_trips_too(tmp_path):
    path = band_file(tmp_path / "band.mid")
    returned = beat_notes(round_trip(path, tmp_path, ticks_per_beat=12))
    assert [n[:5] for n in returned] == [n[:5] for n in beat_notes(path)]
    assert all(Fraction(n[3]) * 12 == int(n[3] * 12) for n in returned)
