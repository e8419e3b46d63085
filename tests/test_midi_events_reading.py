"""Reading MIDI files as they are found: every quirk kept or refused with a sentence naming the
file, never a traceback."""

from __future__ import annotations

import mido
import pytest
from midi_files import (
    GOLDEN,
    beat_notes,
    empty_tracks_file,
    notes,
    running_status_file,
    smpte_file,
    type2_file,
    write_tracks,
)

from rnnmusic.codecs import get_codec
from rnnmusic.errors import CodecError, RnnMusicError


@pytest.fixture
def codec():
    return get_codec("midi-events")


def decoded_notes(codec, text: str) -> list[tuple[int, int, int, int]]:
    """(start tick, end tick, pitch, instrument) of each note a text decodes to."""
    piece = codec.decode(text)
    assert piece.repairs == []
    return [(n.start, n.end, n.pitch, n.instrument) for n in piece.score.notes]


def test_running_status_and_zero_velocity_note_offs(codec, tmp_path):
    path = tmp_path / "rs.mid"
    path.write_bytes(running_status_file())
    [text] = codec.encode_file(path)
    found = decoded_notes(codec, text)
    assert found[:3] == [(0, 4, 60, 0), (0, 4, 64, 0), (0, 4, 67, 0)]  # quarter-note chord
    assert (4, 6, 64, 0) in found  # the repeated E4, an eighth note


def test_notes_shorter_than_a_tick_keep_one_tick(codec, tmp_path):
    path = tmp_path / "rs.mid"
    path.write_bytes(running_status_file())
    found = decoded_notes(codec, codec.encode_file(path)[0])
    assert (6, 7, 72, 0) in found  # C5 lasting 1/64 of a whole note
    assert (8, 9, 74, 0) in found  # D5 lasting one MIDI tick


def test_off_grid_notes_move_to_the_nearest_tick(codec, tmp_path):
    """Every note survives quantisation, at the nearest sixteenth (120 MIDI ticks)."""
    offsets = [0, 59, -59, 31, -31, 7]
    melody = []
    for i, offset in enumerate(offsets):
        start = 480 * (i + 1) + offset
        melody.append((start, mido.Message("note_on", note=60 + i, velocity=90)))
        melody.append((start + 30, mido.Message("note_off", note=60 + i)))  # a 1/64 note
    path = write_tracks(tmp_path / "off.mid", 480, [melody])
    found = decoded_notes(codec, codec.encode_file(path)[0])
    assert [(s, e, p) for s, e, p, _ in found] == [
        (4 * (i + 1), 4 * (i + 1) + 1, 60 + i) for i in range(len(offsets))
    ]


def test_overlapping_notes_of_one_key_keep_every_onset(codec, tmp_path):
    """G4 struck at tick 14 and again at 16 before the first note-off: two notes, sounding
    until the last note-off."""
    path = tmp_path / "rs.mid"
    path.write_bytes(running_status_file())
    found = decoded_notes(codec, codec.encode_file(path)[0])
    assert [n for n in found if n[2] == 67 and n[0] > 0] == [(14, 16, 67, 0), (16, 20, 67, 0)]


def test_chorale_voices_in_unison_share_a_channel(codec):
    """music21 writes all four voices on channel 1; a voice's note-off must not end another
    voice's note of the same key. The soprano's C#5 and the alto's notes all come back."""
    original = beat_notes(GOLDEN / "chorale-bwv66.6.mid")
    text = codec.encode_file(GOLDEN / "chorale-bwv66.6.mid")[0]
    onsets = {(n.pitch, n.start) for n in codec.decode(text).score.notes}
    assert onsets == {(p, int(s * 4)) for _, _, p, s, _, _ in original}


def test_type_0_and_type_1_give_the_same_text(codec, tmp_path):
    type1 = mido.MidiFile(str(GOLDEN / "band.mid"))
    type0 = mido.MidiFile(type=0, ticks_per_beat=type1.ticks_per_beat)
    type0.tracks.append(mido.merge_tracks(type1.tracks))
    type0.save(str(tmp_path / "band0.mid"))
    assert codec.encode_file(tmp_path / "band0.mid") == codec.encode_file(GOLDEN / "band.mid")


def test_empty_tracks_are_ignored(codec, tmp_path):
    path = empty_tracks_file(tmp_path / "sparse.mid")
    [text] = codec.encode_file(path)
    assert text == "T120 M4/4\n+G4....-G4+A4....-A4+B4........\n-B4"


def test_type_2_gives_a_piece_per_track(codec, tmp_path):
    path = tmp_path / "patterns.mid"
    path.write_bytes(type2_file())
    riff, fill = codec.encode_file(path)
    assert riff == "T100 M4/4\n+C4..-C4+E4..-E4"
    assert fill == "T120 M4/4\n@D+D2.-D2+C2.-C2"  # the riff's tempo is not the fill's


def test_tempo_and_meter_changes_are_kept(codec):
    text = codec.encode_file(GOLDEN / "band.mid")[0]
    lines = text.split("\n")
    assert lines[0] == "T100 M4/4"
    assert lines[3].startswith("T140")  # bar 3
    assert lines[4].startswith("M3/4")  # bar 4
    piece = codec.decode(text)
    assert piece.score.tempos == [(0, 100), (32, 140)]
    assert piece.score.meters == [(0, 4, 4), (48, 3, 4)]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "is not a MIDI file"),
        (b"just some text pretending to be MIDI\n", "is not a MIDI file"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x00\x04", "is truncated"),
        (b"MThd\x00\x00", "is truncated"),
        (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0XXXX\x00\x00\x00\x00", "is corrupt"),
        (b"MThd\x00\x00\x00\x06\x00\x00\x00\x01\x01\xe0MTrk\x00\x00\x00\x03\x00\x3c\x40", "is corrupt"),
        (smpte_file(), "SMPTE"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x00\x00MTrk\x00\x00\x00\x04" + b"\x00\xff\x2f\x00", "0 ticks per beat"),
        (b"MThd\x00\x00\x00\x06\x00\x01\x00\x01\x01\xe0MTrk\x00\x00\x00\x04\x00\xff\x2f\x00", "holds no notes"),
    ],
    ids=["empty", "png", "text", "truncated-track", "truncated-header", "bad-chunk",
         "running-status-without-status", "smpte", "zero-division", "no-notes"],
)  # fmt: skip
def test_bad_files_raise_a_codec_error_naming_the_file(codec, tmp_path, content, fragment):
    path = tmp_path / "bad.mid"
    path.write_bytes(content)
    with pytest.raises(CodecError) as caught:
        codec.encode_file(path)
    assert caught.value.path == str(path)
    assert fragment in caught.value.reason
    assert "\n" not in str(caught.value)


def test_a_truncated_real_file_is_refused(codec, tmp_path):
    data = (GOLDEN / "band.mid").read_bytes()
    for cut in (20, len(data) // 2, len(data) - 3):
        path = tmp_path / f"cut{cut}.mid"
        path.write_bytes(data[:cut])
        with pytest.raises(CodecError, match="truncated"):
            codec.encode_file(path)


def test_wrong_extension_folder_and_missing_file(codec, tmp_path):
    (tmp_path / "song.txt").write_bytes((GOLDEN / "band.mid").read_bytes())
    with pytest.raises(CodecError, match=r"does not handle \.txt"):
        codec.encode_file(tmp_path / "song.txt")
    (tmp_path / "folder.mid").mkdir()
    with pytest.raises(CodecError, match="is a folder"):
        codec.encode_file(tmp_path / "folder.mid")
    with pytest.raises(CodecError, match="does not exist"):
        codec.encode_file(tmp_path / "missing.mid")


def test_track_selection_keeps_one_track_and_explains_refusals(tmp_path):
    bass_only = get_codec("midi-events", track=3).encode_file(GOLDEN / "band.mid")[0]
    pitches = {n.pitch for n in get_codec("midi-events").decode(bass_only).score.notes}
    assert bass_only.startswith("T100 M4/4\n@33+C2") and max(pitches) < 48
    with pytest.raises(
        CodecError, match=r"has 4 tracks \(numbered from 1\), so there is no track 5"
    ):
        get_codec("midi-events", track=5).encode_file(GOLDEN / "band.mid")
    with pytest.raises(CodecError, match=r"track 1 holds no notes \(tracks with notes: 2, 3, 4\)"):
        get_codec("midi-events", track=1).encode_file(GOLDEN / "band.mid")


def test_no_drums_drops_the_drum_channel(tmp_path):
    text = get_codec("midi-events", drums=False).encode_file(GOLDEN / "band.mid")[0]
    assert "@D" not in text and "@33" in text
    path = tmp_path / "patterns.mid"
    path.write_bytes(type2_file())
    assert len(get_codec("midi-events", drums=False).encode_file(path)) == 1
    drums_only = write_tracks(tmp_path / "drums.mid", 480, [notes(9, [(0, 1, 36), (4, 1, 38)])])
    with pytest.raises(CodecError, match="only drum notes"):
        get_codec("midi-events", drums=False).encode_file(drums_only)


def test_finer_grids_keep_triplets(tmp_path):
    triplets = []  # eighth-note triplets: 160 MIDI ticks each, not on the sixteenth grid
    for i in range(3):
        triplets.append((i * 160, mido.Message("note_on", note=60 + i, velocity=90)))
        triplets.append(((i + 1) * 160, mido.Message("note_off", note=60 + i)))
    path = write_tracks(tmp_path / "triplets.mid", 480, [triplets])
    codec = get_codec("midi-events", ticks_per_beat=12)
    found = decoded_notes(codec, codec.encode_file(path)[0])
    assert [(s, e) for s, e, _, _ in found] == [(0, 4), (4, 8), (8, 12)]


def test_too_many_instruments_are_refused(codec, tmp_path):
    tracks = []
    for i in range(16):
        channel = i if i < 9 else i + 1 if i < 15 else 0
        tracks.append(
            [(i * 480, mido.Message("program_change", channel=channel, program=i))]
            + [(i * 480 + 1 + tick, m) for tick, m in notes(channel, [(0, 1, 60)])]
        )
    path = write_tracks(tmp_path / "orchestra.mid", 480, tracks)
    with pytest.raises(CodecError, match="16 melodic instruments"):
        codec.encode_file(path)


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"ticks_per_beat": 0}, "--ticks-per-beat"),
        ({"ticks_per_beat": 97}, "--ticks-per-beat"),
        ({"velocity_bins": 17}, "--velocity-bins"),
        ({"track": 0}, "--track counts from 1"),
        ({"colour": 1}, "no option 'colour'"),
    ],
)
def test_bad_options_are_user_errors(options, fragment):
    with pytest.raises(RnnMusicError, match=fragment):
        get_codec("midi-events", **options)


def test_tempos_beyond_the_text_range_are_clamped(codec, tmp_path):
    slow = [(0, mido.MetaMessage("set_tempo", tempo=16_000_000))]  # 3.75 BPM
    fast = [(480, mido.MetaMessage("set_tempo", tempo=50_000))]  # 1200 BPM
    path = write_tracks(tmp_path / "extreme.mid", 480, [slow + fast + notes(0, [(0, 8, 60)])])
    [text] = codec.encode_file(path)
    assert text == "T4 M4/4\n+C4....T999....-C4"
