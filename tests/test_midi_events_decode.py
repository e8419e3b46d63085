"""`decode` is total: any string gives a MIDI file that mido and pretty_midi read back, with the
repairs listed. And the text of any score decodes to that very score, with no repairs."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import mido
import pretty_midi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnmusic.codecs import get_codec
from rnnmusic.codecs.midi_events import alphabet
from rnnmusic.codecs.midi_events.score import Note, Score, VelocityBins, resolve_overlaps

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Pieces of the vocabulary a sampler emits: whole events and loose characters of the grammar.
EVENTS = [".", ".", ".", ".", "\n", " ", "@D", "@0", "@33", "@128", "@", "v3", "vF", "v", "T96"]
EVENTS += ["T0", "T", "M4/4", "M3/8", "M5/6", "M/", "+", "-", "c", "_", "9", "x", "\t", "é"]
EVENTS += [s + alphabet.pitch_name(p) for s in "+-" for p in (0, 36, 60, 61, 64, 67, 127)]
VOCABULARY_TEXT = st.lists(st.sampled_from(EVENTS), max_size=120).map("".join)
PIECE_SHAPED = st.lists(st.sampled_from(EVENTS[:14] + EVENTS[28:]), max_size=200).map(
    lambda parts: "T120 M4/4\n" + "".join(parts)
)
NOTE_ON_EVENT = re.compile(r"\+([CcDdEFfGgAaB])([_0-9])")
GRAMMAR = re.compile(
    r"T\d{1,3} M\d{1,2}/\d{1,2}\n"
    r"(?:\.\n?|[+-][CcDdEFfGgAaB][_0-9]|@(?:D|\d{1,3})|v[0-9A-F]|T\d{1,3}|M\d{1,2}/\d{1,2})*"
)


def write_and_read_back(codec, text: str) -> tuple[object, pretty_midi.PrettyMIDI]:
    piece = codec.decode(text)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sample.mid"
        codec.write(piece, path)
        midi = mido.MidiFile(str(path))
        pm = pretty_midi.PrettyMIDI(str(path))
    assert midi.type == 1
    assert sum(len(i.notes) for i in pm.instruments) == len(piece.score.notes)
    return piece, pm


@PROPERTY
@given(text=st.text(max_size=300))
def test_decode_of_any_string_writes_a_readable_midi_file(text):
    piece, _ = write_and_read_back(get_codec("midi-events"), text)
    assert all(isinstance(r, str) and r for r in piece.repairs)


@PROPERTY
@given(text=VOCABULARY_TEXT, bins=st.sampled_from([0, 4, 16]))
def test_decode_of_vocabulary_strings_writes_a_readable_midi_file(text, bins):
    write_and_read_back(get_codec("midi-events", velocity_bins=bins), text)


@PROPERTY
@given(text=PIECE_SHAPED)
def test_no_note_on_is_lost_without_a_repair(text):
    """Each well-formed note-on either starts a note of the written file or has a repair."""
    piece, _ = write_and_read_back(get_codec("midi-events"), text)
    note_ons = [
        m for m in NOTE_ON_EVENT.finditer(text) if alphabet.parse_pitch(*m.groups()) is not None
    ]
    assert len(piece.score.notes) + len(piece.repairs) >= len(note_ons)
    assert all(note.end > note.start for note in piece.score.notes)


# -- the text of any score decodes back to it ---------------------------------------------------

INSTRUMENTS = st.sampled_from([0, 0, 0, 33, 48, 127, alphabet.DRUMS])


@st.composite
def scores(draw) -> tuple[Score, int]:
    ticks_per_beat = draw(st.sampled_from([1, 3, 4, 12]))
    bins = draw(st.sampled_from([0, 2, 8, 16]))
    raw = draw(
        st.lists(
            st.tuples(
                st.integers(0, 120),
                st.integers(1, 24),
                st.integers(0, 127),
                INSTRUMENTS,
                st.integers(1, 127),
            ),
            min_size=1,
            max_size=40,
        )
    )
    velocity_bins = VelocityBins(bins) if bins > 1 else None

    def loudness(v: int) -> int:
        return velocity_bins.velocity(velocity_bins.bin(v)) if velocity_bins else 80

    notes = resolve_overlaps(Note(s, s + d, p, i, loudness(v)) for s, d, p, i, v in raw)
    end = max(n.end for n in notes)
    change_ticks = draw(st.lists(st.integers(1, max(1, end - 1)), max_size=3, unique=True))
    tempos = [(0, draw(st.integers(4, 999)))]
    tempos += [(t, draw(st.integers(4, 999))) for t in sorted(change_ticks) if t < end]
    meter = st.tuples(st.integers(1, 99), st.sampled_from(alphabet.METER_DENOMINATORS))
    meters = [(0, *draw(meter))]
    meters += [(t, *draw(meter)) for t in sorted(draw(st.sets(st.integers(1, end), max_size=2)))]
    return Score(ticks_per_beat, notes, tempos, meters), bins


@PROPERTY
@given(case=scores())
def test_text_of_a_score_decodes_to_the_same_score(case):
    score, bins = case
    codec = get_codec("midi-events", ticks_per_beat=score.ticks_per_beat, velocity_bins=bins)
    from rnnmusic.codecs.midi_events.encoder import encode_score

    text = encode_score(score, codec.bins)
    assert "\n\n" not in text and not text.endswith("\n")
    assert GRAMMAR.fullmatch(text), text
    piece = codec.decode(text)
    assert piece.repairs == []
    assert piece.score == score


@pytest.mark.parametrize("count", range(2, 17))
def test_velocity_bins_play_back_in_their_own_bin(count):
    bins = VelocityBins(count)
    assert [bins.bin(bins.velocity(b)) for b in range(count)] == list(range(count))
    assert bins.bin(1) == 0 and bins.bin(127) == count - 1
    assert all(bins.bin(v) <= bins.bin(v + 1) for v in range(1, 127))


# -- each repair, once ----------------------------------------------------------------------------

REPAIRS = [
    ("T90 M4/4\n+C4..x-C4", "unknown character 'x' skipped"),
    ("T90 M4/4\n+Q4.", "has no pitch"),
    ("T90 M4/4\n+g9.", "has no pitch"),  # above MIDI note 127
    ("T90 M4/4\n-C4", "not sounding; dropped"),
    ("T90 M4/4\n+C4..+C4..-C4", "switched on while sounding"),
    ("T90 M4/4\n+C4+C4..-C4", "switched on twice in one tick"),
    ("T90 M4/4\n+C4-C4", "switched off in the tick it started"),
    ("T90 M4/4\n+C4..", "never switched off; closed at the end"),
    ("T90 M4/4\n@200+C4.-C4", "neither a program 0-127 nor D"),
    ("T90 M4/4\nv3+C4.-C4", "text without velocity"),
    ("T0 M4/4\n+C4.-C4", "is not 4-999 BPM"),
    ("T3 M4/4\n+C4.-C4", "is not 4-999 BPM"),  # slower than MIDI can write
    ("T90 M4/3\n+C4.-C4", "is not like M4/4"),
    ("+C4.-C4", "no tempo"),
    ("T90\n+C4.-C4", "no meter"),
]


@pytest.mark.parametrize(("text", "fragment"), REPAIRS)
def test_each_repair_is_reported(text, fragment):
    repairs = get_codec("midi-events").decode(text).repairs
    assert any(fragment in r for r in repairs), repairs


def test_repairs_keep_the_music_that_is_there():
    piece = get_codec("midi-events").decode("T90 M4/4\n+C4x..+E4..-C4-A4")
    notes = [(n.start, n.end, n.pitch) for n in piece.score.notes]
    assert notes == [(0, 4, 60), (2, 4, 64)]  # E4 closed at the end
    assert len(piece.repairs) == 3  # x, -A4, E4 never switched off


def test_velocity_out_of_range_and_a_sixteenth_instrument():
    codec = get_codec("midi-events", velocity_bins=4)
    assert "not one of v0-v3" in codec.decode("T90 M4/4\nv9+C4.-C4").repairs[0]
    text = "T90 M4/4\n" + "".join(f"@{p}+C4" for p in range(16)) + "."
    piece = get_codec("midi-events").decode(text)
    assert len({n.instrument for n in piece.score.notes}) == 15
    assert sum("15 melodic instruments" in r for r in piece.repairs) == 1


def test_endless_waits_are_cut(tmp_path):
    codec = get_codec("midi-events", ticks_per_beat=1)
    piece = codec.decode("T90 M4/4\n+C4" + "." * 16_005 + "-C4")
    assert piece.score.notes[0].end == 16_000
    assert any("5 waits beyond" in r for r in piece.repairs)
    codec.write(piece, tmp_path / "long.mid")
    pretty_midi.PrettyMIDI(str(tmp_path / "long.mid"))
