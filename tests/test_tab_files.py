"""The tab codec's files: Guitar Pro, MIDI and ABC in; fingering; bad input."""

from __future__ import annotations

import zipfile
from pathlib import Path

import guitarpro as gp
import mido
import pytest
from conftest import assert_user_error
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnmusic.codecs import get_codec
from rnnmusic.codecs.tab.fingering import MAX_SPAN, PitchedNote, finger
from rnnmusic.codecs.tab.model import STANDARD, TUNINGS
from rnnmusic.corpus import build_corpus
from rnnmusic.errors import CodecError

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "codecs" / "tab" / "golden"


@pytest.fixture(scope="module")
def codec():
    return get_codec("tab")


# -- a Guitar Pro file written with PyGuitarPro --------------------------------------------


def _beat(voice, value, notes=(), *, dotted=False, triplet=False, rest=False, vibrato=False):
    """notes: (string counted from the highest as Guitar Pro does, fret, type, effect dict)."""
    beat = gp.Beat(voice, duration=gp.Duration(value=value, isDotted=dotted))
    if triplet:
        beat.duration.tuplet = gp.Tuplet(3, 2)
    beat.status = gp.BeatStatus.rest if rest else gp.BeatStatus.normal
    beat.effect.vibrato = vibrato
    for string, fret, kind, effects in notes:
        note = gp.Note(beat, value=fret, string=string, type=kind)
        for name, value in effects.items():
            setattr(note.effect, name, value)
        beat.notes.append(note)
    voice.beats.append(beat)
    return beat


N, T, D = gp.NoteType.normal, gp.NoteType.tie, gp.NoteType.dead


def write_song(path: Path) -> None:
    """A drum track, a drop-D guitar (triplets, a tie over the bar line, techniques) and a bass."""
    song = gp.Song()
    song.tempo = 132
    song.measureHeaders = []
    drums = gp.Track(song, name="Drums", isPercussionTrack=True, measures=[])
    drums.channel.channel = 9
    guitar = gp.Track(song, number=2, name="Lead", measures=[])
    guitar.strings = [gp.GuitarString(i + 1, p) for i, p in enumerate([64, 59, 55, 50, 45, 38])]
    bass = gp.Track(song, number=3, name="Bass", measures=[])
    bass.strings = [gp.GuitarString(i + 1, p) for i, p in enumerate([43, 38, 33, 28])]
    song.tracks = [drums, guitar, bass]
    for number in (1, 2):
        header = gp.MeasureHeader(number=number, start=960 + (number - 1) * 3840)
        song.addMeasureHeader(header)
        for track in song.tracks:
            track.measures.append(gp.Measure(track, header))
    g1, g2 = (m.voices[0] for m in guitar.measures)
    bend = gp.BendEffect(
        type=gp.BendType.bend, value=100, points=[gp.BendPoint(0, 0), gp.BendPoint(12, 4)]
    )
    _beat(g1, 4, [(6, 0, N, {"palmMute": True}), (5, 0, N, {}), (4, 0, N, {})])
    _beat(g1, 8, [(3, 5, N, {"hammer": True})])
    _beat(g1, 8, [(3, 7, N, {})])
    _beat(g1, 8, [(2, 8, N, {})], triplet=True)
    _beat(g1, 8, [(2, 10, N, {"bend": bend})], triplet=True)
    _beat(g1, 8, [(1, 12, N, {"slides": [gp.SlideType.shiftSlideTo]})], triplet=True)
    _beat(g1, 4, [(1, 14, N, {})], vibrato=True)
    _beat(g2, 4, [(1, 14, T, {})])
    _beat(g2, 8, [(6, 0, D, {})])
    _beat(g2, 8, [], rest=True)
    _beat(g2, 2, [(5, 2, N, {}), (4, 4, N, {}), (3, 4, N, {}), (2, 3, N, {})], dotted=False)
    b1, b2 = (m.voices[0] for m in bass.measures)
    _beat(b1, 1, [(4, 0, N, {})])
    _beat(b2, 2, [(3, 5, N, {})])
    _beat(b2, 2, [(3, 3, N, {})])
    for measure in drums.measures:
        _beat(measure.voices[0], 1, [], rest=True)
    gp.write(song, str(path))


GUITAR_TEXT = "\n".join(
    [
        "g24 m4/4 q132 tD2A2D3G3B3E4",
        # a palm-muted D5 crotchet, 5h7 in quavers, a triplet with a bend, a slide into 14
        "000---:m-----." + "===---." * 5 + "---5--.---=--.---=--.---7--:---h--.---=--.---=--."
        "----8-.----=-.----a-:----b-.----=-.-----c.-----=.-----e:-----/." + "-----=." * 5 + "|",
        # 14 tied over the bar line, a dead note, a rest, a held four-note chord
        "-----=." * 6
        + "x-----."
        + "=-----." * 2
        + "------." * 3
        + "-2443-."
        + "-====-." * 11
        + "|",
    ]
)


def test_gp5_from_pyguitarpro_round_trips_through_our_text(codec, tmp_path):
    source = tmp_path / "song.gp5"
    write_song(source)
    triplets = get_codec("tab", grid=24)
    (text,) = triplets.encode_file(source)
    assert text == GUITAR_TEXT  # drums skipped, drop D read from the track, one vibrato lost
    out = tmp_path / "back.gp5"
    triplets.write(triplets.decode(text), out)
    assert triplets.encode_file(out) == [text]
    song = gp.parse(str(out))
    (track,) = song.tracks
    assert [s.value for s in track.strings] == [64, 59, 55, 50, 45, 38]
    beats = [b for m in track.measures for b in m.voices[0].beats]
    assert [b.duration.tuplet.enters for b in beats[3:6]] == [3, 3, 3]
    notes = {(n.string, n.value): n for b in beats for n in b.notes if n.type == N}
    assert notes[(6, 0)].effect.palmMute and notes[(3, 5)].effect.hammer
    assert notes[(2, 10)].effect.isBend and notes[(1, 12)].effect.slides
    tied = [n for b in beats for n in b.notes if n.type == T]
    assert (1, 14) in {(n.string, n.value) for n in tied}  # held over the bar line


@pytest.mark.parametrize("ext", [".gp3", ".gp4"])
def test_older_guitar_pro_versions_read_the_same(tmp_path, ext):
    write_song(tmp_path / "song.gp5")
    older = tmp_path / f"song{ext}"
    gp.write(gp.parse(str(tmp_path / "song.gp5")), str(older))  # version from the extension
    assert get_codec("tab", grid=24).encode_file(older) == [GUITAR_TEXT]


def test_track_option_picks_the_bass(tmp_path):
    source = tmp_path / "song.gp5"
    write_song(source)
    (text,) = get_codec("tab", track=3).encode_file(source)
    assert text.split("\n")[0] == "g16 m4/4 q132 tE1A1D2G2"
    assert text.split("\n")[2].startswith("-5--.-=--.")
    with pytest.raises(CodecError, match="drum track"):
        get_codec("tab", track=1).encode_file(source)
    with pytest.raises(CodecError, match="has 3 tracks"):
        get_codec("tab", track=7).encode_file(source)


# -- MIDI and ABC through fingering --------------------------------------------------------


def write_melody(path: Path, notes: list[tuple[int, int, int]], tpq: int = 480) -> None:
    """notes: (start, length, pitch) in sixteenths."""
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("time_signature", numerator=3, denominator=4, time=0))
    events = []
    for start, length, pitch in notes:
        events.append((start * tpq // 4, 1, mido.Message("note_on", note=pitch, velocity=70)))
        events.append(((start + length) * tpq // 4, 0, mido.Message("note_off", note=pitch)))
    now = 0
    for tick, _, message in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    midi = mido.MidiFile(ticks_per_beat=tpq)
    midi.tracks.append(track)
    midi.save(str(path))


def onsets(path: Path) -> list[tuple[int, int]]:
    """(sixteenth, pitch) of every note in a MIDI file."""
    midi = mido.MidiFile(str(path))
    found = []
    for track in midi.tracks:
        now = 0
        for message in track:
            now += message.time
            if message.type == "note_on" and message.velocity:
                found.append((round(now * 4 / midi.ticks_per_beat), message.note))
    return sorted(found)


melodies = st.lists(st.tuples(st.integers(1, 6), st.integers(40, 88)), min_size=1, max_size=40).map(
    lambda pairs: _lay_out(pairs)
)


def _lay_out(pairs):
    notes, position = [], 0
    for gap, pitch in pairs:
        notes.append((position, gap, pitch))
        position += gap
    return notes


@settings(max_examples=25, deadline=None)
@given(notes=melodies)
def test_midi_to_tab_to_midi_keeps_every_pitch_and_onset(tmp_path_factory, notes):
    folder = tmp_path_factory.mktemp("melody")
    source, back = folder / "in.mid", folder / "out.mid"
    write_melody(source, notes)
    codec = get_codec("tab")
    (text,) = codec.encode_file(source)
    piece = codec.decode(text)
    assert piece.clean
    codec.write(piece, back)
    assert onsets(back) == sorted((start, pitch) for start, _, pitch in notes)


def test_cli_converts_midi_to_gp5_and_ascii(tmp_path, cli):
    source = tmp_path / "tune.mid"
    write_melody(source, [(0, 4, 52), (4, 2, 55), (6, 2, 57), (8, 4, 59)])
    result = cli("convert", source, tmp_path / "tune.gp5")
    assert result.returncode == 0, result.stderr
    song = gp.parse(str(tmp_path / "tune.gp5"))
    played = [
        n.realValue for m in song.tracks[0].measures for b in m.voices[0].beats for n in b.notes
    ]
    assert played == [52, 55, 57, 59]
    result = cli("convert", source, tmp_path / "tune.txt")
    assert result.returncode == 0, result.stderr
    assert "e|" in (tmp_path / "tune.txt").read_text()


chords = st.lists(st.integers(40, 84), min_size=1, max_size=8, unique=True)


@settings(max_examples=200, deadline=None)
@given(chord_list=st.lists(chords, min_size=1, max_size=6))
def test_fingered_chords_are_playable(chord_list):
    notes = [PitchedNote(i * 4, p, 4) for i, chord in enumerate(chord_list) for p in chord]
    fingered, dropped = finger(notes, STANDARD)
    assert len(fingered) + dropped == len(notes)
    for i, chord in enumerate(chord_list):
        struck = [n for n in fingered if n.start == i * 4]
        strings = [n.string for n in struck]
        assert len(strings) == len(set(strings))  # never two notes on one string
        fretted = [n.fret for n in struck if n.fret]
        assert not fretted or max(fretted) - min(fretted) <= MAX_SPAN
        assert {STANDARD[n.string] + n.fret for n in struck} <= set(chord)
        assert max(chord) in {STANDARD[n.string] + n.fret for n in struck}  # melody kept


def test_common_chords_keep_every_note():
    shapes = {
        "C": [48, 52, 55, 60, 64],
        "G": [43, 47, 50, 55, 59, 67],
        "F#m7": [42, 49, 52, 57, 61],
    }
    for name, pitches in shapes.items():
        fingered, dropped = finger([PitchedNote(0, p) for p in pitches], STANDARD)
        assert dropped == 0, name
        assert sorted(STANDARD[n.string] + n.fret for n in fingered) == sorted(pitches)


def test_fingering_keeps_the_hand_still():
    """A phrase around one position is played there (reaching up for its top note, as
    guitarists do); a naive lowest-fret choice jumps."""
    a_minor = [57, 60, 62, 64, 67, 69, 72, 74, 76, 72, 69, 67, 64, 62, 60, 57]
    fingered, _ = finger([PitchedNote(i, p) for i, p in enumerate(a_minor)], STANDARD)
    fretted = [n.fret for n in fingered if n.fret]
    assert max(fretted) - min(fretted) <= MAX_SPAN + 1  # one position, no shifts
    lowest = [min(p - o for o in STANDARD if p - o >= 0) for p in a_minor]
    assert max(lowest) - min(f for f in lowest if f) > 2 * MAX_SPAN  # frets 1 to 12


def test_bass_tuning_option_fingers_onto_four_strings(tmp_path):
    source = tmp_path / "line.mid"
    write_melody(source, [(0, 4, 28), (4, 4, 33), (8, 4, 40), (12, 4, 43)])
    (text,) = get_codec("tab", tuning="bass").encode_file(source)
    header, first_bar = text.split("\n")[:2]
    assert header.endswith("tE1A1D2G2")
    assert first_bar.split(".")[0] == "0---"
    assert TUNINGS["bass"] == (28, 33, 38, 43)


ABC = """X:1
T:Test Reel
M:4/4
L:1/8
Q:1/4=112
K:D
"D"DFAd "G"B2 (3GAB|A4- A2 [DF]2|]
"""


def test_abc_melody_is_fingered_an_octave_below_as_written(codec, tmp_path):
    path = tmp_path / "reel.abc"
    path.write_text(ABC)
    (text,) = get_codec("tab", grid=24).encode_file(path)
    piece = codec.decode(text)
    assert piece.clean and text.startswith("g24 m4/4 q112\n")
    tab = piece.tab
    played = [(n.start, tab.pitch(n)) for n in tab.notes()]
    # D4 F#4 A4 D5 B4, a triplet G4 A4 B4, A4 tied over four and a half beats, a D4/F#4 dyad:
    # sounding an octave lower; chord symbols ("D", "G") add nothing
    expected_pitches = [50, 54, 57, 62, 59, 55, 57, 59, 57, 50, 54]
    expected_starts = [0, 3, 6, 9, 12, 18, 20, 22, 24, 42, 42]
    assert played == list(zip(expected_starts, expected_pitches, strict=True))
    assert [n.length for n in tab.notes() if n.start == 24] == [18]


# -- bad input ------------------------------------------------------------------------------


def test_truncated_gp5_and_zip_gp5_and_staffless_text_are_clear_errors(tmp_path, cli):
    good = tmp_path / "good.gp5"
    write_song(good)
    truncated = tmp_path / "truncated.gp5"
    truncated.write_bytes(good.read_bytes()[:300])
    zipped = tmp_path / "new.gp5"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("Content/score.gpif", "<GPIF/>")
    prose = tmp_path / "notes.txt"
    prose.write_text("Am  C  G\nSome lyrics - with a dash - or two\n\nNo staff here.\n")
    junk = tmp_path / "junk.tab"
    junk.write_bytes(bytes(range(256)) * 4)
    cases = {
        truncated: "truncated or damaged Guitar Pro file",
        zipped: "is a zip archive",
        prose: "holds no tab staff",
        junk: "binary file",
    }
    for path, message in cases.items():
        with pytest.raises(CodecError, match=message):
            get_codec("tab").encode_file(path)
    for path in (truncated, prose):  # one sentence from the command line, no traceback
        assert_user_error(cli("encode", "--codec", "tab", path), cases[path])


def test_corpus_folder_of_tabs_and_gp_files_skips_and_reports_bad_files(tmp_path):
    folder = tmp_path / "tabs"
    folder.mkdir()
    write_song(folder / "song.gp5")
    (folder / "riff.txt").write_text((GOLDEN / "quirks.txt").read_text())
    (folder / "broken.gp5").write_bytes((folder / "song.gp5").read_bytes()[:200])
    (folder / "readme.txt").write_text("Just words, no tab.\n")
    corpus = build_corpus(folder, get_codec("tab"), tmp_path / "corpus", jobs=1, progress=False)
    report = corpus.meta["report"]
    assert report["files_read"] == 2 and report["pieces"] == 3
    assert set(Path(p).name for p in report["skipped"]) == {"broken.gp5", "readme.txt"}
