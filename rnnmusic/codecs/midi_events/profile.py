"""What a midi-events piece uses: tempos, meters and instruments as spelled in its text, and
how many notes and voices it has — gathered over a corpus so strict sampling keeps to them."""

from __future__ import annotations

import re

from rnnmusic.codecs.midi_events import grammar as g
from rnnmusic.profile import PieceFacts

_EVENT = re.compile(r"([+-])([CcDdEFfGgAaB][_0-9])|@(D|\d+)|T(\d+)|M(\d+/\d+)|(\.)")

TEMPO, METER, PROGRAM = "tempo", "meter", "program"
NOTES, POLYPHONY, MELODIC, TICKS = "notes", "polyphony", "instruments", "ticks"
PITCH_RANGE = "pitch_range"  # semitones from the lowest to the highest melodic note


def piece_facts(text: str) -> PieceFacts:
    tempos, meters, programs = set(), set(), set()
    notes = sounding = most = ticks = 0
    low, high = 128, -1
    current = str(g.DEFAULT_PROGRAM)
    for match in _EVENT.finditer(text):
        sign, _, program, tempo, meter, wait = match.groups()
        if sign == g.NOTE_ON:
            notes += 1
            if current != g.DRUM_KIT:
                pitch = g.parse_pitch(*match.group(2))
                low, high = min(low, pitch), max(high, pitch)
            sounding += 1
            most = max(most, sounding)
            programs.add(current)
        elif sign == g.NOTE_OFF:
            sounding = max(0, sounding - 1)
        elif program is not None:
            current = program
        elif tempo is not None:
            tempos.add(tempo)
        elif meter is not None:
            meters.add(meter)
        elif wait:
            ticks += 1
    melodic = len(programs - {g.DRUM_KIT})
    return PieceFacts(
        values={TEMPO: tempos, METER: meters, PROGRAM: programs},
        numbers={
            NOTES: notes,
            POLYPHONY: most,
            MELODIC: melodic,
            TICKS: ticks,
            PITCH_RANGE: max(0, high - low),
        },
    )
