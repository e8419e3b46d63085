"""Guitar Pro files like the public test suites' (PyGuitarPro's and alphaTab's test data), built
here with PyGuitarPro: every note comes back from file → text → .gp5 at its onset, string and
pitch, on a grid chosen for the file; what the text cannot hold is said on stderr, never lost
silently. benchmarks/gp_roundtrip.py runs the same round trip over the real files."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import guitarpro as gp
import pytest

from rnnmusic.codecs import get_codec

N, T, D = gp.NoteType.normal, gp.NoteType.tie, gp.NoteType.dead
WHOLE = 4 * gp.Duration.quarterTime
Beat = tuple  # (value, [(string, fret, type)], tuplet (n, m) or None, dotted)


def write_song(path: Path, bars: list[list[list[Beat]]], signatures=None) -> None:
    """One standard-tuned guitar track; bars[i] holds the beats of each voice of bar i."""
    song = gp.Song()
    song.measureHeaders = []
    track = gp.Track(song, name="Guitar", measures=[])
    song.tracks = [track]
    start = gp.Duration.quarterTime
    for number, voices in enumerate(bars, start=1):
        header = gp.MeasureHeader(number=number, start=start)
        num, den = (signatures or {}).get(number, (4, 4))
        header.timeSignature = gp.TimeSignature(num, gp.Duration(value=den))
        song.addMeasureHeader(header)
        measure = gp.Measure(track, header)
        track.measures.append(measure)
        for voice, beats in zip(measure.voices, voices, strict=False):
            for value, notes, tuplet, dotted in beats:
                beat = gp.Beat(voice, duration=gp.Duration(value=value, isDotted=dotted))
                if tuplet:
                    beat.duration.tuplet = gp.Tuplet(*tuplet)
                beat.status = gp.BeatStatus.normal if notes else gp.BeatStatus.rest
                for string, fret, kind in notes:
                    beat.notes.append(gp.Note(beat, value=fret, string=string, type=kind))
                voice.beats.append(beat)
        start += header.length
    gp.write(song, str(path))


def beats(value, notes_per_beat, tuplet=None, dotted=False) -> list[Beat]:
    return [(value, notes, tuplet, dotted) for notes in notes_per_beat]


def notes_of(path: Path) -> set[tuple[Fraction, int, int]]:
    """(onset in whole notes, string counted from the highest, pitch) of every struck note."""
    track = gp.parse(str(path)).tracks[0]
    tuning = {s.number: s.value for s in track.strings}
    origin = track.measures[0].start
    return {
        (Fraction(b.start - origin, WHOLE), n.string, tuning[n.string] + n.value)
        for m in track.measures
        for v in m.voices
        for b in v.beats
        for n in b.notes
        if n.type in (N, D)
    }


def round_trip(source: Path, tmp_path: Path, caplog, **options) -> tuple[str, list[str]]:
    """The text of the file, and what the codec said while reading it; the .gp5 written from
    the text must hold the source's notes."""
    codec = get_codec("tab", **options)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="rnnmusic"):
        (text,) = codec.encode_file(source)
    said = [r.getMessage() for r in caplog.records]
    back = tmp_path / "back.gp5"
    codec.write(codec.decode(text), back)
    return text, said


def test_dead_notes_keep_their_fret(tmp_path, caplog):
    source = tmp_path / "dead.gp5"
    write_song(source, [[beats(4, [[(6, 1, D)], [(5, 2, D)], [(4, 3, D)], [(3, 0, D)]])]])
    text, said = round_trip(source, tmp_path, caplog)
    assert said == [] and text.split("\n")[1].startswith("1-----:x-----.")
    assert notes_of(tmp_path / "back.gp5") == notes_of(source)
    back = gp.parse(str(tmp_path / "back.gp5")).tracks[0].measures[0].voices[0].beats
    assert [n.type for b in back for n in b.notes] == [D, D, D, D]


def test_thirty_seconds_and_tuplets_get_a_grid_that_holds_them(tmp_path, caplog):
    cases = {
        # eight 32nds, then a half note: the 16 grid would merge them pairwise
        "g32": [[beats(32, [[(6, f, N)] for f in range(8)]) + beats(2, [[(5, 0, N)]])]],
        # quarter triplets, then quarter quintuplets (five quarters in a whole note)
        "g60": [
            [beats(4, [[(5, f, N)] for f in range(3)], (3, 2)) + beats(2, [[(4, 0, N)]])],
            [beats(4, [[(5, f, N)] for f in range(5)], (5, 4))],
        ],
        # sixteenth triplets and sixteenths in one bar
        "g48": [
            [
                beats(16, [[(3, f, N)] for f in range(6)], (3, 2))
                + beats(16, [[(2, f, N)] for f in range(4)])
                + beats(2, [[(1, 0, N)]])
            ]
        ],
        # a 13-tuplet of eighths filling a bar, then quarter triplets: 1/13 and 1/6 of a whole
        "g78": [
            [beats(8, [[(6, f, N)] for f in range(13)], (13, 8))],
            [beats(4, [[(5, f, N)] for f in range(3)], (3, 2)) + beats(2, [[(4, 0, N)]])],
        ],
    }
    for grid, bars in cases.items():
        source = tmp_path / f"{grid}.gp5"
        write_song(source, bars)
        text, said = round_trip(source, tmp_path, caplog)
        assert said == [], (grid, said)
        assert text.startswith(grid + " "), (grid, text[:20])  # the grid is stated
        assert notes_of(tmp_path / "back.gp5") == notes_of(source), grid


def test_a_grid_asked_for_that_is_too_coarse_says_so(tmp_path, caplog):
    source = tmp_path / "triplets.gp5"
    write_song(
        source,
        [
            [
                beats(8, [[(3, f, N)] for f in range(3)], (3, 2))
                + beats(2, [[(2, 0, N)]])
                + beats(4, [[(1, 0, N)]])
            ]
        ],
    )
    _, said = round_trip(source, tmp_path, caplog, grid=16)
    assert any("onset(s) moved to the nearest 1/16 note" in s for s in said), said


def test_frets_above_24_are_kept_and_above_36_reported(tmp_path, caplog):
    source = tmp_path / "high.gp5"
    write_song(source, [[beats(4, [[(1, 25, N)], [(1, 30, N)], [(6, 36, N)], [(1, 40, N)]])]])
    text, said = round_trip(source, tmp_path, caplog)
    assert notes_of(tmp_path / "back.gp5") == {n for n in notes_of(source) if n[2] != 64 + 40}
    assert said == [f"{source}: 1 note(s) above fret 36 left out"]
    assert "-----A." in text and "-----F." in text and "L-----." in text


def test_two_voices_on_one_string_keep_every_note_and_say_so(tmp_path, caplog, cli):
    """Voice 2 strikes the low string while voice 1 does (Voices.gp5): a string sounds one
    note at a time, so the second moves to a string with the same pitch; the same note in both
    voices is played once."""
    source = tmp_path / "voices.gp5"
    voice1 = beats(4, [[(6, 1, N)], [(6, 2, N)], [(5, 3, N), (4, 2, N)], [(6, 3, N)]])
    voice2 = beats(2, [[(6, 5, N)], [(5, 3, N), (4, 2, N)]])
    write_song(source, [[voice1, voice2]])
    text, said = round_trip(source, tmp_path, caplog)
    pitches = {(onset, pitch) for onset, _, pitch in notes_of(source)}
    assert {(onset, pitch) for onset, _, pitch in notes_of(tmp_path / "back.gp5")} == pitches
    assert (Fraction(0), 5, 45) in notes_of(tmp_path / "back.gp5")  # A2: the open A string
    assert len(said) == 2
    assert "1 note(s) struck on a string that already sounded another note" in said[1]
    assert "moved to another string with the same pitch" in said[1]
    assert "2 note(s) struck twice at once on one string kept once" in said[0]
    result = cli("convert", source, tmp_path / "cli.gp5")  # the user sees it too
    assert result.returncode == 0 and "moved to another string" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("ext", [".gp3", ".gp4"])
def test_older_versions_round_trip_the_same(tmp_path, caplog, ext):
    source = tmp_path / "song.gp5"
    write_song(
        source, [[beats(4, [[(5, f, N)] for f in range(3)], (3, 2)) + beats(2, [[(4, 12, N)]])]]
    )
    older = tmp_path / f"song{ext}"
    gp.write(gp.parse(str(source)), str(older))
    text, said = round_trip(older, tmp_path, caplog)
    assert said == [] and text.startswith("g24 ")
    assert notes_of(tmp_path / "back.gp5") == notes_of(source)
