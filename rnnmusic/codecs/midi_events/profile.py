"""What a midi-events piece uses: tempos, meters and instruments as spelled in its text, and
how many notes and voices it has — gathered over a corpus so strict sampling keeps to them."""

from __future__ import annotations

import re

from rnnmusic.codecs.midi_events import alphabet
from rnnmusic.profile import PieceFacts

_EVENT = re.compile(r"([+-])([CcDdEFfGgAaB][_0-9])|@(D|\d+)|T(\d+)|M(\d+/\d+)|(\.)|(\n)")

TEMPO, METER, PROGRAM = "tempo", "meter", "program"
# the meters in force from the second bar on: a chorale opens with a 1/4 pickup bar and then
# settles into 4/4 (the pickup meter is an opening meter only)
BODY_METER = "body_meter"
NOTES, POLYPHONY, MELODIC, TICKS = "notes", "polyphony", "instruments", "ticks"
PITCH_RANGE = "pitch_range"  # semitones from the lowest to the highest melodic note


def piece_facts(text: str) -> PieceFacts:
    tempos, meters, programs, body_meters = set(), set(), set(), set()
    notes = sounding = most = ticks = bar_lines = 0
    meter = None
    low, high = 128, -1
    current = str(alphabet.DEFAULT_PROGRAM)
    bar_two = False  # just after the bar line that starts bar 2: its meter is still to come
    for match in _EVENT.finditer(text):
        sign, _, program, tempo, new_meter, wait, bar_line = match.groups()
        if bar_two and new_meter is None:
            body_meters.add(meter)  # bar 2 keeps the opening meter
        if new_meter is not None or not bar_line:
            bar_two = False
        if sign == alphabet.NOTE_ON:
            notes += 1
            if current != alphabet.DRUM_KIT:
                pitch = alphabet.parse_pitch(*match.group(2))
                low, high = min(low, pitch), max(high, pitch)
            sounding += 1
            most = max(most, sounding)
            programs.add(current)
        elif sign == alphabet.NOTE_OFF:
            sounding = max(0, sounding - 1)
        elif program is not None:
            current = program
        elif tempo is not None:
            tempos.add(tempo)
        elif new_meter is not None:
            meter = new_meter
            meters.add(meter)
            if bar_lines >= 2:
                body_meters.add(meter)
        elif wait:
            ticks += 1
        elif bar_line:
            bar_lines += 1  # the first ends the header line, the second starts bar 2
            bar_two = bar_lines == 2 and meter is not None
    melodic = len(programs - {alphabet.DRUM_KIT})
    return PieceFacts(
        values={TEMPO: tempos, METER: meters, PROGRAM: programs, BODY_METER: body_meters},
        numbers={
            NOTES: notes,
            POLYPHONY: most,
            MELODIC: melodic,
            TICKS: ticks,
            PITCH_RANGE: max(0, high - low),
        },
    )
