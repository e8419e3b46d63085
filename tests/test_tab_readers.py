"""Every .gp5 the tab codec writes, opened by the real Guitar Pro readers guitarists use:
TuxGuitar, alphaTab (the engine of many web tab players) and MuseScore 3. Each must find the
notes of the project's own .mid of the same piece: every pitch at its onset.

MuseScore plays what it reads, so its MIDI export is compared: it reads GP as a treble-8vb
staff (compare sounding pitch), adds its own notes for slides and bends, and merges a pitch
struck while another string still sounds it (one MIDI channel). TuxGuitar and alphaTab are
asked for the notes of their score model (tests/clients/)."""

from __future__ import annotations

import random
from pathlib import Path

import guitarpro as gp
import pytest
from gp_readers import (
    alphatab_notes,
    close,
    midi_notes,
    musescore_notes,
    tuxguitar_notes,
)

from rnnmusic.codecs import get_codec
from rnnmusic.codecs.tab.encoder import format_tab
from rnnmusic.codecs.tab.gp import parse_gp
from rnnmusic.codecs.tab.gp_rhythm import MAX_BEATS
from rnnmusic.codecs.tab.model import STANDARD, TabNote, tab_from_notes

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "codecs" / "tab" / "golden"
CODEC = get_codec("tab")
EFFECT_MARKS = set("/br~")  # MuseScore plays glissando, bend and vibrato notes of its own


def _text(grid, signature, notes, bars, tuning=STANDARD, tempo=100) -> str:
    """A piece from (start, string, fret, length, mark) notes."""
    tab_notes = [TabNote(*note) for note in notes]
    return format_tab(tab_from_notes(tab_notes, bars, tuning, grid, signature, tempo))


def _pieces() -> dict[str, str]:
    pieces = {
        # sixteenths and eighths, a chord held over a bar line, a rest, a pickup bar
        "melody": "g16 m3/4 q100\n--3---.--=---.|\n---0--.---=--.--2---.--3---.---2--.---=--.---0--"
        ".----1-.----0-.----=-.------.------.|\n020100.======.======.======.======.======.======."
        "======.======.======.======.======.|\n======.======.-----3.-----=.-----=.-----=.-----=."
        "-----=.-----=.-----=.-----=.-----=.|",
        # eighth and sixteenth triplets on a 48 grid, a bass in drop tuning
        "triplets": "g48 m2/4 q76 tD1A1D2G2\n"
        + "0---."
        + "----." * 3
        + "-2--."
        + "----." * 3
        + "--4-."
        + "----." * 3
        + "0---."
        + "----." * 11
        + ("---5." + "----.") * 6
        + "|",
        # a seven-string riff in 7/8
        "seven": "g16 m7/8 q150 tB1E2A2D3G3B3E4\n"
        + ("000----." + "===----." + "--2----." + "--=----." + "-------." + "0------.") * 2
        + "2------.=------.|",
    }
    # g60: quarter triplets, then quintuplet sixteenths, then plain sixteenths in one bar;
    # dead notes with their fret (mark x) and without (x)
    pieces["quintuplets"] = _text(
        60,
        (4, 4),
        [(0, 0, 3, 10, "-"), (10, 1, 5, 10, "x"), (20, 2, 5, 10, "-")]
        + [(30 + 3 * i, 3, i + 2, 3, "-") for i in range(5)]
        + [(45, 4, 12, 4, "-"), (49, 4, 15, 4, "-"), (53, 0, None, 4, "-"), (57, 5, 17, 3, "-")],
        [60, 60],
    )
    # g96: 32nds and 32nd triplets; frets 25-36 (A-L) and a natural harmonic
    pieces["fine"] = _text(
        96,
        (2, 4),
        [(3 * i, 5, 20 + i, 3, "-") for i in range(8)]
        + [(24 + 2 * i, 4, 25 + i, 2, "-") for i in range(12)]
        + [(0, 0, 12, 48, "*")],
        [48],
    )
    # a 13-tuplet of 32nds in a quarter (g208 = 16 x 13), then sixteenths
    pieces["thirteen"] = _text(
        208,
        (1, 4),
        [(4 * i, 5, i, 4, "-") for i in range(13)]
        + [(52 + 13 * i, 4, 2 * i, 13, "-") for i in range(4)],
        [52, 52],
    )
    # an 18/2 bar of 144 struck sixteenths: more than the 100 beats alphaTab and MuseScore
    # take in one measure, so it is written as several measures
    pieces["long-bar"] = _text(
        16, (18, 2), [(i, i % 6, (i * 7) % 13, 1, "-") for i in range(144)], [144]
    )
    golden = (GOLDEN / "quirks.expected").read_text().strip().split("\n\n")
    pieces["golden-bass"] = golden[1]
    pieces["golden-guitar"] = golden[0]
    rng = random.Random(5)  # decoded noise: odd bar lengths, repairs, every mark, fine grids
    alphabet = "--------=====x0123456789abcAL.....||\n:hbr/~m*x"
    for i, header in enumerate(["g16 m4/4", "g16 m4/4", "g60 m3/4", "g160 m4/4", "g48 m6/8"]):
        pieces[f"noise-{i}"] = header + "\n" + "".join(rng.choice(alphabet) for _ in range(600))
    return pieces


PIECES = _pieces()


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """Each piece written as .gp5 and .mid, every .gp5 checked by PyGuitarPro before a reader
    sees it (a damaged .gp5 can crash MuseScore)."""
    folder = tmp_path_factory.mktemp("written")
    files = {}
    for name, text in PIECES.items():
        piece = CODEC.decode(text)
        gp5 = folder / f"{name}.gp5"
        CODEC.write(piece, gp5)
        CODEC.write(piece, folder / f"{name}.mid")
        parse_gp(gp5)
        files[name] = gp5
    return folder, files


def test_written_measures_fit_guitar_pro_readers(written):
    """No measure over the 100 beats alphaTab and MuseScore take; each measure's beats fill
    its time signature exactly."""
    _, files = written
    for name, path in files.items():
        song = gp.parse(str(path))
        for measure in song.tracks[0].measures:
            beats = measure.voices[0].beats
            assert len(beats) <= MAX_BEATS, (name, measure.number, len(beats))
            assert sum(b.duration.time for b in beats) == measure.length, (name, measure.number)
    assert len(gp.parse(str(files["long-bar"])).tracks[0].measures) > 1


def _ours(folder: Path, name: str):
    return midi_notes(folder / f"{name}.mid")


def _ticks(name: str) -> int:
    """How far a reader's onset may be from ours: Guitar Pro counts 960 ticks a quarter, so a
    note of a 13-tuplet of 32nds lasts 73.8 ticks; the readers count 73 and drift by up to 10
    ticks within the tuplet (the next beat outside it is exact again)."""
    grid = CODEC.decode(PIECES[name]).tab.grid
    return 1 if (4 * 960) % grid == 0 else 12


@pytest.mark.needs("tuxguitar")
def test_tuxguitar_reads_the_notes_of_our_midi(written, tmp_path):
    folder, files = written
    found = tuxguitar_notes(list(files.values()), tmp_path)
    for name in files:
        assert not isinstance(found[name], str), (name, found[name])
        assert close(found[name], _ours(folder, name), _ticks(name)), name


@pytest.mark.needs("alphatab")
def test_alphatab_reads_the_notes_of_our_midi(written):
    folder, files = written
    found = alphatab_notes(list(files.values()))
    for name in files:
        assert not isinstance(found[name], str), (name, found[name])
        assert close(found[name], _ours(folder, name), _ticks(name)), name


def _merged(text: str) -> set[tuple[int, int]]:
    """(tick, pitch) of the notes MuseScore merges into another: a pitch struck while another
    string still sounds it (one MIDI channel cannot sound a pitch twice)."""
    tab = CODEC.decode(text).tab
    notes = tab.notes()
    return {
        (round(note.start * 4 * 960 / tab.grid), tab.played_pitch(note))
        for note in notes
        if any(
            o.start < note.start < o.end
            and tab.played_pitch(o) == tab.played_pitch(note)
            and o.string != note.string
            for o in notes
        )
    }


@pytest.mark.needs("mscore3")
def test_musescore_plays_the_notes_of_our_midi(written, tmp_path):
    folder, files = written
    heard = musescore_notes(list(files.values()), tmp_path)
    for name, text in PIECES.items():
        assert not isinstance(heard[name], str), (name, heard[name])
        expected = _ours(folder, name) - _merged(text)
        if any(n.mark in EFFECT_MARKS for n in CODEC.decode(text).tab.notes()):
            # MuseScore's own glissando and bend notes come on top of ours
            assert expected <= heard[name], (name, sorted(expected - heard[name])[:5])
        else:
            assert close(heard[name], expected, _ticks(name)), (
                name,
                sorted(expected ^ heard[name])[:5],
            )
