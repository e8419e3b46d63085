"""MIDI files for the midi-events tests, built here byte by byte or with mido, so every quirk the
codec must read (running status, zero-velocity note-offs, SMPTE time, type 2, …) is really in the
file. `python tests/midi_files.py` rewrites the golden inputs in codecs/midi_events/golden/."""

from __future__ import annotations

import struct
import sys
from fractions import Fraction
from pathlib import Path

import mido
import pretty_midi

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "codecs" / "midi_events" / "golden"


# -- raw Standard MIDI File bytes ---------------------------------------------------------------


def varlen(value: int) -> bytes:
    """A MIDI variable-length quantity."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def chunk(name: bytes, data: bytes) -> bytes:
    return name + struct.pack(">L", len(data)) + data


def smf(file_type: int, division: int, tracks: list[bytes]) -> bytes:
    """A whole file; `division` is ticks per beat, or a negative SMPTE word."""
    header = struct.pack(">hhh", file_type, len(tracks), division)
    return chunk(b"MThd", header) + b"".join(chunk(b"MTrk", t) for t in tracks)


END_OF_TRACK = b"\x00\xff\x2f\x00"


def running_status_file() -> bytes:
    """Type 0, 96 ticks per beat, written the way hardware sequencers write: running status
    throughout, note-offs as zero-velocity note-ons, and the cases the codec must not lose:
    - a C major chord of quarter notes, then E4 again as an eighth (a repeated key);
    - a 1/64 note (6 ticks) and a note 1 tick long: each keeps one sixteenth-note tick;
    - a note 2 ticks after the beat, quantised to the beat;
    - two note-ons on G4 before its first note-off (overlapping notes of one key).
    """
    events = bytearray()
    events += b"\x00\xff\x51\x03" + (500000).to_bytes(3, "big")  # 120 BPM
    events += b"\x00\xff\x58\x04\x03\x02\x18\x08"  # 3/4
    events += b"\x00\xc0\x00"  # program 0
    events += b"\x00\x90\x3c\x64" + b"\x00\x40\x64" + b"\x00\x43\x64"  # C4 E4 G4 on (running)
    events += varlen(96) + b"\x3c\x00" + b"\x00\x40\x00" + b"\x00\x43\x00"  # all off
    events += b"\x00\x40\x50" + varlen(48) + b"\x40\x00"  # E4 eighth note
    events += b"\x00\x48\x64" + varlen(6) + b"\x48\x00"  # C5 for 1/64 (6 ticks)
    events += varlen(42) + b"\x4a\x64" + varlen(1) + b"\x4a\x00"  # D5 for 1 tick
    events += varlen(47 + 2) + b"\x47\x64" + varlen(22) + b"\x47\x00"  # B4, 2 ticks late
    events += varlen(72) + b"\x43\x64" + varlen(48) + b"\x43\x70"  # G4 on, on again
    events += varlen(48) + b"\x43\x00" + varlen(48) + b"\x43\x00"  # G4 off, off
    events += END_OF_TRACK
    return smf(0, 96, [bytes(events)])


def smpte_file() -> bytes:
    """Time in 25 frames per second × 40 ticks (the header's division word 0xE728)."""
    track = b"\x00\x90\x3c\x64\x28\x80\x3c\x00" + END_OF_TRACK
    return smf(0, -0x18D8, [track])  # 0xE728 as a signed 16-bit word


def type2_file() -> bytes:
    """Type 2: two independent patterns (a riff and a fill), each its own piece."""
    riff = b"\x00\xff\x51\x03" + (600000).to_bytes(3, "big")
    riff += b"\x00\x90\x3c\x64" + varlen(120) + b"\x3c\x00" + b"\x00\x40\x64"
    riff += varlen(120) + b"\x40\x00" + END_OF_TRACK
    fill = b"\x00\x99\x26\x64" + varlen(60) + b"\x26\x00" + b"\x00\x24\x64"
    fill += varlen(60) + b"\x24\x00" + END_OF_TRACK
    return smf(2, 240, [riff, fill])


# -- files built with mido ----------------------------------------------------------------------


def write_tracks(path: Path, resolution: int, tracks: list[list], file_type: int = 1) -> Path:
    """Tracks of (absolute tick, message) pairs → a MIDI file."""
    midi = mido.MidiFile(type=file_type, ticks_per_beat=resolution)
    for events in tracks:
        track = mido.MidiTrack()
        previous = 0
        for tick, message in sorted(events, key=lambda e: (e[0], _order_in_tick(e[1]))):
            track.append(message.copy(time=tick - previous))
            previous = tick
        midi.tracks.append(track)
    midi.save(str(path))
    return path


def _order_in_tick(message) -> int:
    """Note-offs first, then settings (programs, tempo), then note-ons, as sequencers write."""
    if message.type == "note_off" or (message.type == "note_on" and message.velocity == 0):
        return 0
    return 2 if message.type == "note_on" else 1


def notes(channel: int, triples: list[tuple[int, int, int]], velocity=100, unit=120) -> list:
    """(start, length, pitch) in sixteenths → note messages at 480 ticks per beat."""
    events = []
    for start, length, pitch in triples:
        v = velocity(start) if callable(velocity) else velocity
        events.append(
            (start * unit, mido.Message("note_on", channel=channel, note=pitch, velocity=v))
        )
        events.append(
            (
                (start + length) * unit,
                mido.Message("note_off", channel=channel, note=pitch, velocity=0),
            )
        )
    return events


def band_file(path: Path) -> Path:
    """Type 1, four tracks: a conductor with a tempo change (100 → 140 BPM at bar 3) and a
    meter change (4/4 → 3/4 at bar 4); piano chords with changing loudness that switch to
    strings (program 48) at bar 3; a bass (program 33); drums on channel 10; all on the grid."""
    bar = 16
    conductor = [
        (0, mido.MetaMessage("track_name", name="Band")),
        (0, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
        (0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(100))),
        (2 * bar * 120, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(140))),
        (3 * bar * 120, mido.MetaMessage("time_signature", numerator=3, denominator=4)),
    ]
    chords = [(0, [60, 64, 67]), (8, [62, 65, 69]), (16, [64, 67, 71]), (24, [65, 69, 72])]
    chords += [(32, [60, 64, 67]), (40, [67, 71, 74]), (48, [60, 64, 67])]
    piano = [(0, mido.MetaMessage("track_name", name="Keys"))]
    piano.append((0, mido.Message("program_change", channel=0, program=0)))
    piano.append((2 * bar * 120, mido.Message("program_change", channel=0, program=48)))
    piano += notes(0, [(s, 8, p) for s, ps in chords for p in ps], velocity=lambda s: 40 + s)
    bass = [(0, mido.Message("program_change", channel=1, program=33))]
    bass += notes(1, [(s, 4, 36 + (s // 8) % 5) for s in range(0, 60, 4)], velocity=90)
    drums = [(0, mido.MetaMessage("track_name", name="Drums"))]
    kick_snare = [(s, 1, 36 if (s // 4) % 2 == 0 else 38) for s in range(0, 60, 4)]
    hats = [(s, 1, 42) for s in range(0, 60, 2)]
    drums += notes(9, kick_snare + hats, velocity=lambda s: 110 if s % 4 == 0 else 70)
    return write_tracks(path, 480, [conductor, piano, bass, drums])


def tempo_change_file(path: Path) -> Path:
    """A melody at 90 BPM that speeds up to 150 BPM after two bars, then slows to 60."""
    conductor = [
        (0, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(90))),
        (8 * 480, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(150))),
        (12 * 480, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(60))),
    ]
    melody = notes(0, [(2 * i, 2, 60 + (i * 5) % 12) for i in range(28)])
    return write_tracks(path, 480, [conductor, melody])


def empty_tracks_file(path: Path) -> Path:
    """Type 1 with an empty track (only its end) and a track of meta events between notes."""
    named = [(0, mido.MetaMessage("track_name", name="nothing here"))]
    melody = notes(0, [(0, 4, 67), (4, 4, 69), (8, 8, 71)])
    return write_tracks(path, 480, [[], named, melody, []])


# -- reading notes back, as a listener would compare them -----------------------------------------


def beat_notes(path: Path) -> list[tuple]:
    """Every note as (program, is_drum, pitch, start beat, end beat, velocity), via pretty_midi,
    in quarter-note beats (exact fractions), sorted."""
    pm = pretty_midi.PrettyMIDI(str(path))
    beat = Fraction(pm.resolution)
    found = []
    for inst in pm.instruments:
        program = 0 if inst.is_drum else inst.program
        for n in inst.notes:
            start = Fraction(pm.time_to_tick(n.start)) / beat
            end = Fraction(pm.time_to_tick(n.end)) / beat
            found.append((program, inst.is_drum, n.pitch, start, end, n.velocity))
    return sorted(found)


def second_notes(path: Path) -> list[tuple]:
    """(program, is_drum, pitch, start s, end s) rounded to milliseconds: what a listener hears."""
    pm = pretty_midi.PrettyMIDI(str(path))
    return sorted(
        (0 if i.is_drum else i.program, i.is_drum, n.pitch, round(n.start, 3), round(n.end, 3))
        for i in pm.instruments
        for n in i.notes
    )


def write_golden_inputs() -> None:
    GOLDEN.mkdir(parents=True, exist_ok=True)
    band_file(GOLDEN / "band.mid")
    (GOLDEN / "running-status.mid").write_bytes(running_status_file())
    from rnnmusic.codecs.midi_events.corpus import chorale_scores, convert_chorale

    source = next(p for p in chorale_scores() if p.stem == "bwv66.6")
    convert_chorale(source, GOLDEN / "chorale-bwv66.6.mid")


if __name__ == "__main__":
    write_golden_inputs()
    print(f"golden inputs written to {GOLDEN}", file=sys.stderr)
