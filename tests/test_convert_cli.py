"""`rnnmusic convert` says what it took from a file with several instruments and why, and keeps
the tempo; the formats one tune is converted to agree on its meter."""

from __future__ import annotations

from pathlib import Path

import guitarpro as gp
import mido
import pretty_midi
import pytest

BEAT_S = 60 / 96  # the band plays at 96 bpm
BAND = [  # (General MIDI program, track name, lowest pitch)
    (0, "Piano", 60),
    (33, "Bass", 40),
    (48, "Strings", 67),
    (25, "Rhythm guitar", 55),
    (27, "Lead guitar", 64),
    (73, "Flute", 72),
]


def write_band(path: Path, bpm: float = 96, meter: tuple[int, int] = (3, 4)) -> Path:
    """Six pitched instruments and drums, each on its own track, with tempo and meter set."""
    music = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    music.time_signature_changes.append(pretty_midi.TimeSignature(*meter, 0))
    beat = 60 / bpm
    for program, name, low in BAND:
        instrument = pretty_midi.Instrument(program=program, name=name)
        for i in range(12):
            pitch = low + (i % 5)
            instrument.notes.append(pretty_midi.Note(90, pitch, i * beat, (i + 1) * beat))
        music.instruments.append(instrument)
    drums = pretty_midi.Instrument(program=0, is_drum=True, name="Drums")
    drums.notes += [pretty_midi.Note(90, 36, i * beat, i * beat + 0.1) for i in range(12)]
    music.instruments.append(drums)
    music.write(str(path))
    return path


def gp5_pitches(path: Path) -> set[int]:
    song = gp.parse(str(path))
    track = song.tracks[0]
    tuning = {s.number: s.value for s in track.strings}
    return {
        tuning[note.string] + note.value
        for measure in track.measures
        for voice in measure.voices
        for beat in voice.beats
        for note in beat.notes
    }


def test_convert_says_which_instrument_it_took_and_keeps_tempo_and_meter(cli, tmp_path):
    band = write_band(tmp_path / "band.mid")
    result = cli("convert", band, tmp_path / "band.gp5")
    assert result.returncode == 0, result.stderr
    said = result.stdout
    assert "took instrument 4 of 6, 'Rhythm guitar' (Acoustic Guitar (steel))" in said
    assert "the first of 2 guitars (drums left out)" in said
    assert "--track N takes another (1 'Piano' (Acoustic Grand Piano), 2 'Bass'" in said
    assert "tempo 96 bpm" in said
    song = gp.parse(str(tmp_path / "band.gp5"))
    assert song.tempo == 96
    header = song.measureHeaders[0].timeSignature
    assert (header.numerator, header.denominator.value) == (3, 4)
    assert gp5_pitches(tmp_path / "band.gp5") == {55, 56, 57, 58, 59}  # the rhythm guitar's

    chosen = cli("convert", band, tmp_path / "strings.gp5", "--track", "3")
    assert chosen.returncode == 0, chosen.stderr
    assert "took instrument 3, 'Strings' (String Ensemble 1), as --track asks" in chosen.stdout
    assert gp5_pitches(tmp_path / "strings.gp5") == {67, 68, 69, 70, 71}


def test_convert_says_when_the_tempo_cannot_be_kept(cli, tmp_path):
    fast = write_band(tmp_path / "fast.mid", bpm=910)
    result = cli("convert", fast, tmp_path / "fast.txt")
    assert result.returncode == 0, result.stderr
    assert "its tempo, 910 bpm, is outside what a tab holds (20-400 bpm): written as 400" in (
        result.stdout
    )
    assert "Tempo: 400 bpm" in (tmp_path / "fast.txt").read_text(encoding="utf-8")
    midi = mido.MidiFile(fast)
    midi.tracks[0] = mido.MidiTrack(m for m in midi.tracks[0] if m.type != "set_tempo")
    midi.save(tmp_path / "untimed.mid")
    untimed = cli("convert", tmp_path / "untimed.mid", tmp_path / "untimed.txt")
    assert "the file sets no tempo: written at 120 bpm, as MIDI assumes" in untimed.stdout


METERS = {  # one bar of each, in eighth notes (L:1/8)
    "2/4": "GABc",
    "3/4": "GABcde",
    "6/8": "GABcde",
    "2/2": "GABcdedB",
    "5/4": "GABcdedBAG",
    "7/8": "GABcded",
    "12/8": "GABcdedBAGAB",
}


@pytest.mark.slow
@pytest.mark.parametrize("meter", list(METERS))
def test_one_tune_converted_to_every_format_keeps_its_meter(cli, tmp_path, meter):
    bar = METERS[meter]
    tune = tmp_path / "tune.abc"
    tune.write_text(f"X:1\nT:t\nM:{meter}\nL:1/8\nK:G\n{bar}|{bar}|{bar}|\n", encoding="utf-8")
    for out, codec in (("tune.txt", "tab"), ("tune.gp5", "tab"), ("tune.mid", "abc")):
        done = cli("convert", tune, tmp_path / out, "--codec", codec)
        assert done.returncode == 0, done.stderr
    numerator, denominator = (int(v) for v in meter.split("/"))
    assert f"Time: {meter}" in (tmp_path / "tune.txt").read_text(encoding="utf-8")
    headers = gp.parse(str(tmp_path / "tune.gp5")).measureHeaders
    assert {(h.timeSignature.numerator, h.timeSignature.denominator.value) for h in headers} == {
        (numerator, denominator)
    }
    midi = mido.MidiFile(tmp_path / "tune.mid")
    meters = {
        (m.numerator, m.denominator)
        for t in midi.tracks
        for m in t
        if m.is_meta and m.type == "time_signature"
    }
    assert meters == {(numerator, denominator)}


@pytest.mark.slow
def test_a_tune_whose_bars_overfill_its_meter_starts_in_that_meter_everywhere(cli, tmp_path):
    """A sampled tune can declare M:1/4 and write bars of 4/4. music21 re-bars such a tune into
    1/4 and 3/4 measures and cannot write it as MIDI; every format still starts in the meter the
    tune declares (bars longer than it keep their own length)."""
    tune = tmp_path / "tune.abc"
    tune.write_text("X:1\nT:t\nM:1/4\nL:1/8\nK:G\nGABc dedB|GABc dedB|\n", encoding="utf-8")
    for out, codec in (("tune.txt", "tab"), ("tune.gp5", "tab"), ("tune.mid", "abc")):
        done = cli("convert", tune, tmp_path / out, "--codec", codec)
        assert done.returncode == 0, done.stderr
    assert "Time: 1/4" in (tmp_path / "tune.txt").read_text(encoding="utf-8")
    first = gp.parse(str(tmp_path / "tune.gp5")).measureHeaders[0].timeSignature
    assert (first.numerator, first.denominator.value) == (1, 4)
    midi = mido.MidiFile(tmp_path / "tune.mid")
    meters = [m for track in midi.tracks for m in track if m.type == "time_signature"]
    assert (meters[0].numerator, meters[0].denominator) == (1, 4)
