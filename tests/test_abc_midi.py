"""ABC → MIDI plays what abc2midi plays (issue 16): chord symbols as an accompaniment whose notes
all end, grace notes that take their time from the next note, accidentals to the bar line,
repeats as abc2midi expands them, ornaments, hornpipe swing; overlays refused and every tune
`convert` leaves out named; a `|\\` continuation before `:|` keeps the repeat.

Expected notes are abc2midi 4.84's, as (tick at 480 a beat, pitch, channel); the slow test at
the end compares the two players on real tunes."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import mido
import pytest
from conftest import run_cli
from midi_checks import deliberately_broken, unended_notes

from rnnmusic.codecs.abc import AbcCodec
from rnnmusic.codecs.abc.agreement import corpus_tunes, first_difference, notes_of, tune_abc
from rnnmusic.codecs.abc.clients import abc2midi_available, abc2midi_onsets, note_onsets
from rnnmusic.codecs.abc.corpus import folk_abc_files
from rnnmusic.codecs.abc.play import perform

TICKS = 480


def played(tmp_path: Path, tune: str, **options) -> list[tuple[int, int, int]]:
    """The notes of the .mid the abc codec writes for a tune, as (tick, pitch, channel); the
    file must end every note it starts."""
    source = tmp_path / "tune.abc"
    source.write_text(f"X:1\nT:test\n{tune}\n", encoding="utf-8")
    codec = AbcCodec(**options)
    target = tmp_path / "tune.mid"
    codec.write(codec.decode(codec.encode_file(source)[0]), target)
    assert unended_notes(target) == []
    return [(int(b * TICKS), p, c) for b, p, c in note_onsets(mido.MidiFile(target))]


def pitches(notes: list[tuple[int, int, int]], channel: int = 0) -> list[int]:
    return [p for _, p, c in notes if c == channel]


def test_chord_symbols_play_as_bass_and_chords_that_all_end(tmp_path):
    notes = played(tmp_path, 'M:4/4\nL:1/4\nK:C\n"C"CDEF|"G"GABc|]')
    melody = [(t, p) for t, p, c in notes if c == 0]
    assert melody == [(480 * i, p) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])]
    bass = [(t, p) for t, p, c in notes if c == 1]
    assert bass == [(0, 36), (960, 36), (1920, 43), (2880, 43)]  # C, then G, on beats 1 and 3
    chords = sorted((t, p) for t, p, c in notes if c == 2)
    assert chords == sorted(
        [(t, p) for t in (480, 1440) for p in (48, 52, 55)]
        + [(t, p) for t in (2400, 3360) for p in (55, 59, 62)]
    )
    midi = mido.MidiFile(tmp_path / "tune.mid")
    first = [m for m in midi.tracks[2] if m.type.startswith("note")][0]
    assert first.type == "note_on"  # music21 began the track with note-offs of other notes


def test_no_chord_symbols_leaves_them_out_of_the_text_and_the_midi(tmp_path):
    notes = played(tmp_path, 'M:4/4\nL:1/4\nK:C\n"C"CDEF|"G7"GABc|]', chord_symbols=False)
    assert {c for _, _, c in notes} == {0} and len(notes) == 8
    codec = AbcCodec(chord_symbols=False)
    assert '"' not in codec.encode_file(tmp_path / "tune.abc")[0]
    assert "dropped 2 chord symbol(s)" in codec.decode('K:C\n"C"CD"G"EF|').repairs[-1]


def test_a_grace_note_takes_a_quarter_of_its_length_from_the_next_note(tmp_path):
    notes = played(tmp_path, "M:4/4\nL:1/4\nK:C\n{g}CDEF|GABc|]")
    assert notes[:3] == [(0, 79, 0), (120, 60, 0), (480, 62, 0)]
    midi = mido.MidiFile(tmp_path / "tune.mid")
    off = next(m for m in midi.tracks[1] if m.type == "note_off" and m.note == 79)
    assert off.time == 120  # the grace note stops when C starts, it does not hang on


def test_an_accidental_holds_for_its_letter_to_the_bar_line(tmp_path):
    assert pitches(played(tmp_path, "M:4/4\nL:1/8\nK:C\n_d2 fd c4|]")) == [73, 77, 73, 72]
    # in every octave of the letter, as abc2midi plays it; the bar line ends it
    notes = played(tmp_path, "M:4/4\nL:1/8\nK:C\n_D d _d D d4|d8|]")
    assert pitches(notes) == [61, 73, 73, 61, 73, 74]


def test_repeats_without_start_repeats_play_as_abc2midi_plays_them(tmp_path):
    notes = played(tmp_path, "M:1/4\nL:1/4\nK:C\nC D :| E F :| G A :|")
    assert pitches(notes) == [60, 62, 60, 62, 64, 65, 64, 65, 67, 69, 67, 69]
    notes = played(tmp_path, "M:1/4\nL:1/4\nK:C\nC |: D :| E :| F :|")
    assert pitches(notes) == [60, 62, 62, 64, 64, 65, 65]
    notes = played(tmp_path, "M:1/4\nL:1/4\nK:C\n|: C |1 D :|2 E :|3 F |]")
    assert pitches(notes) == [60, 62, 60, 64, 60, 65]


def test_a_roll_plays_its_cuts_and_a_trill_its_alternation(tmp_path):
    notes = played(tmp_path, "M:4/4\nL:1/8\nK:G\n~B3 ~B2 z3|]")
    assert notes == [
        (0, 71, 0), (240, 72, 0), (300, 71, 0), (480, 69, 0), (540, 71, 0),
        (720, 72, 0), (780, 71, 0),
    ]  # fmt: skip
    notes = played(tmp_path, "M:4/4\nL:1/8\nK:G\nTB2 z6|]")
    assert notes == [(60 * i, 72 if i % 2 == 0 else 71, 0) for i in range(8)]


def test_tuplets_fermata_broken_rhythm_and_hornpipe_swing(tmp_path):
    notes = played(tmp_path, "M:3/4\nL:1/8\nK:C\n(3cde !fermata!f2 A>B G<c|]")
    assert [t for t, _, _ in notes] == [0, 160, 320, 480, 1440, 1800, 1920, 2040]
    notes = played(tmp_path, "R:hornpipe\nM:4/4\nL:1/8\nK:D\nABcd efga|]")
    assert [t for t, _, _ in notes] == [0, 320, 480, 800, 960, 1280, 1440, 1760]


def test_convert_names_every_tune_it_leaves_out_and_refuses_overlays(tmp_path):
    source = tmp_path / "split.abc"
    source.write_text(
        "X:1\nT:One\nM:4/4\nL:1/4\nK:C\nCDEF|GABc|]\n\n"
        "X:2\nT:Two voices\nM:4/4\nL:1/4\nK:C\nV:1\nCDEF|\nV:2\nC,D,E,F,|\n\n"
        "X:3\nT:Overlay\nM:4/4\nL:1/4\nK:C\nG4 & E4|]\n\n"
        "X:4\nT:Four\nM:4/4\nL:1/4\nK:C\nEFGA|]\n",
        encoding="utf-8",
    )
    for out in ("out.abc", "out.mid"):
        result = run_cli("convert", source, tmp_path / out)
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("wrote ") == 2
        left_out = result.stderr.strip().splitlines()
        assert left_out == [
            "left out tune X:2 (Two voices) at line 8: multi-voice tune (V:)",
            "left out tune X:3 (Overlay) at line 18: voice overlay (&), which the abc codec "
            "cannot keep as one voice",
        ]
    assert (tmp_path / "out-2.abc").read_text(encoding="utf-8").endswith("EFGA|]\n")
    piece = AbcCodec().decode("M:4/4\nL:1/4\nK:C\nG4 & E4|]")
    assert "dropped 1 voice overlay sign(s) '&' (the codec writes one voice)" in piece.repairs


def test_a_continued_line_ending_in_a_bar_line_keeps_the_end_repeat_after_it(tmp_path):
    tune = "M:4/4\nL:1/4\nK:C\nCDEF|\\\n:|GABc|]"
    assert pitches(played(tmp_path, tune)) == [60, 62, 64, 65] * 2 + [67, 69, 71, 72]
    assert ":|" in AbcCodec().encode_file(tmp_path / "tune.abc")[0]


def test_every_note_ends_however_odd_the_tune(tmp_path):
    """Ties into nothing, grace notes before a bar line, a chord shorter than its strum,
    overlapping repeats of one pitch: the file still stops every note it starts."""
    tune = (
        'M:6/8\nL:1/32\nK:D\n"D"{gag}A/|{a}|[CEGce]/A-|A-B "G7/B"G,,,-G,,, [A8A8]2 TA16'
        ":: ~c3 .d (3::2ABc :|2 Z2 |]"
    )
    assert played(tmp_path, tune)  # played() checks the note-offs


def test_the_suites_midi_check_finds_a_note_that_never_ends(tmp_path):
    track = mido.MidiTrack()
    track += [
        mido.Message("note_on", note=60, velocity=90),
        mido.Message("note_on", note=64, velocity=90),
        mido.Message("note_off", note=60, time=480),
    ]
    midi = mido.MidiFile()
    midi.tracks.append(track)
    midi.save(tmp_path / "hanging.mid")
    assert unended_notes(tmp_path / "hanging.mid") == ["pitch 64 on channel 0 from tick 0"]
    deliberately_broken(tmp_path / "hanging.mid")  # the session's own check leaves it alone


@pytest.mark.slow
@pytest.mark.skipif(not abc2midi_available(), reason="abc2midi (Debian package abcmidi) missing")
def test_the_player_agrees_with_abc2midi_note_for_note(tmp_path):
    """Every 25th tune of the built-in corpus (about 520, all collections) and tunes written
    for this test (chord symbols in ten meters, endings, ornaments): the same notes at the same
    ticks as abc2midi plays for the codec's own text."""
    tunes = [t.tune for t in corpus_tunes(folk_abc_files()) if t.tune is not None]
    sample = tunes[::25]
    codec = AbcCodec()
    sample += [codec.decode(text).tune for text in WRITTEN_TUNES]
    differences = []
    for tune in sample:
        expected = abc2midi_onsets(tune_abc(tune))
        ours = sorted((Fraction(n.start, TICKS), n.pitch, n.channel) for n in perform(tune).notes)
        if expected != ours:  # same notes, same beats, and on the same channels
            assert expected is not None
            difference = first_difference(notes_of(expected), notes_of(ours)) or "channels"
            differences.append(f"{tune.text[:200]!r}: {difference}")
    assert len(sample) > 500
    assert not differences, "\n".join(differences[:5])


WRITTEN_TUNES = [
    'M:2/4\nL:1/16\nK:G\n"G"G2AB "D7"cBAG|"G"B4 "Em"e4|"Am"c2A2 "D"F2D2|"G"G8|]',
    'M:3/4\nL:1/8\nK:D\n"D"A2 d2 f2|"A7/C#"e4 "Bm"d2|"G"B2 "A"A4|"D"d6|]',
    'M:6/8\nL:1/8\nK:Ador\nE|"Am"A2A "G"BAG|"Am"A2B "C"c2d|"G"e2d "Em/B"B2G|1"Am"A3 A2:|2"Am"A3-A2|]',
    'M:9/8\nL:1/8\nK:G\n"G"GAB "C"c2d "D"e2f|"G"g3 "D7"f3 "G"g3|]',
    'M:12/8\nL:1/8\nK:E\n"E"E2F G2A "A"B2c d2e|"B7"f3 "E"e3 E6|]',
    'M:C|\nL:1/8\nK:F\n"F"FAcA "Bb"BdfB|"C7"cegc "F"f4|]',
    'M:5/4\nL:1/4\nK:C\n"C"CDE "G"DG|"F"FAc "Dm"DF|]',
    'M:7/8\nL:1/8\nK:A\n"A"ABc "D"dcB "E7"A|"A"a7|]',
    'M:3/8\nL:1/16\nK:Bb\n"Bb"B2d2f2|"F7"e2c2A2|"Bb"B6|]',
    'M:6/4\nL:1/4\nK:G\n"G"G2 A B2 c|"Cmaj7"e3 "Am7b5"d3|]',
    'R:hornpipe\nM:4/4\nL:1/8\nK:D\n(3ABc|"D"dAFA DFAd|"G"B>cd>B "A7"A2 ~A2|"D"d2 f2 d4:|',
    "M:4/4\nL:1/8\nK:G\n|:{g}A2 {ag}B2 TG4|1 [GB]2 [Ac]2 [Bd]4:|2 !fermata![GBd]8||",
]
