"""Score → text: the one canonical spelling of a score, so equal music gives equal text.

Order inside a tick: meter, tempo, then each instrument in turn (melodic by program, drums last):
its note-offs, then its note-ons, both from low to high; `@` only when the instrument changes and
`v` only when the loudness bin changes. Then the waits to the next tick with events, with a bar
line after each wait that reaches the start of a bar.
"""

from __future__ import annotations

from collections import defaultdict

from rnnmusic.codecs.midi_events import alphabet
from rnnmusic.codecs.midi_events.score import Score, VelocityBins, bar_starts


def encode_score(score: Score, velocity_bins: VelocityBins | None) -> str:
    offs: dict[int, list[tuple[int, int]]] = defaultdict(list)  # tick → (instrument, pitch)
    ons: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # + velocity
    for note in score.notes:
        offs[note.end].append((note.instrument, note.pitch))
        ons[note.start].append((note.instrument, note.pitch, note.velocity))
    tempos = dict(score.tempos[1:])
    meters = {tick: (n, d) for tick, n, d in score.meters[1:]}
    event_ticks = sorted(set(offs) | set(ons) | set(tempos) | set(meters))

    _, bpm = score.tempos[0]
    _, numerator, denominator = score.meters[0]
    out = [alphabet.header(bpm, numerator, denominator)]
    bars = bar_starts(score.meters, score.ticks_per_beat)
    next_bar = next(bars)
    current_instrument, current_bin = alphabet.DEFAULT_PROGRAM, None
    position = 0
    for tick in event_ticks:
        while position < tick:  # waits, with a bar line where a bar starts
            position += 1
            out.append(alphabet.WAIT)
            if position >= next_bar:
                out.append(alphabet.BAR_LINE)
                while next_bar <= position:
                    next_bar = next(bars)
        if tick in meters:
            out.append(alphabet.meter(*meters[tick]))
        if tick in tempos:
            out.append(alphabet.tempo(tempos[tick]))
        by_instrument: dict[int, tuple[list[int], list[tuple[int, int]]]] = defaultdict(
            lambda: ([], [])
        )
        for instrument, pitch in offs.get(tick, ()):
            by_instrument[instrument][0].append(pitch)
        for instrument, pitch, velocity in ons.get(tick, ()):
            by_instrument[instrument][1].append((pitch, velocity))
        for instrument in sorted(by_instrument):
            if instrument != current_instrument:
                out.append(alphabet.instrument(instrument))
                current_instrument = instrument
            stopping, starting = by_instrument[instrument]
            out.extend(alphabet.note_off(pitch) for pitch in sorted(stopping))
            for pitch, velocity in sorted(starting):
                if velocity_bins is not None:
                    bin_index = velocity_bins.bin(velocity)
                    if bin_index != current_bin:
                        out.append(alphabet.velocity(bin_index))
                        current_bin = bin_index
                out.append(alphabet.note_on(pitch))
    return "".join(out)
