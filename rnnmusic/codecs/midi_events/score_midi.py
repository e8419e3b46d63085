"""A music21 score as a MIDI file, written with mido.

music21's own MIDI export deep-copies the whole score to play out its repeats (about 0.2 s of
CPU a chorale, four fifths of converting one); reading the parsed score measure by measure in
playing order writes the same notes in a fraction of that. Scores with first and second endings
still go through music21 (`has_endings`), which knows their rules.

What is written: a conductor track (tempo, time signatures, the first key signature), then one
track per part on its own channel (the part's instrument, piano where it names none) with the part's notes, ties
joined, at velocity 90 unless the score says otherwise.
"""

from __future__ import annotations

from fractions import Fraction

import mido

TICKS_PER_QUARTER = 10080  # as music21 writes: divisible by every tuplet a chorale holds
DEFAULT_TEMPO = 120  # beats per minute, as music21 assumes without a metronome mark
DEFAULT_VELOCITY = 90
DRUM_CHANNEL = 9


def has_endings(score) -> bool:
    """First and second endings (repeat brackets), which `playing_order` does not follow."""
    from music21 import spanner

    return bool(score.spannerBundle.getByClass(spanner.RepeatBracket))


def playing_order(measures: list) -> list[int]:
    """Measure indices as a player meets them: a section between repeat barlines is played
    twice (or as often as the end barline says); an end without a start repeats from the
    beginning or from the last end repeat, as music21's expander does."""
    from music21 import bar

    order: list[int] = []
    start = 0
    for index, measure in enumerate(measures):
        left, right = measure.leftBarline, measure.rightBarline
        if isinstance(left, bar.Repeat) and left.direction == "start":
            start = index
        order.append(index)
        if isinstance(right, bar.Repeat) and right.direction == "end":
            for _ in range((right.times or 2) - 1):
                order.extend(range(start, index + 1))
            start = index + 1
    return order


def score_to_midi(score) -> mido.MidiFile:
    """The score's parts as a type-1 MIDI file (see the module docstring)."""
    from music21 import stream

    parts = list(score.parts) or [score]
    measures = [list(part.getElementsByClass(stream.Measure)) for part in parts]
    order = playing_order(measures[0])
    starts = _played_starts(measures[0], order)
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_QUARTER)
    midi.tracks.append(_conductor(measures[0], order, starts))
    channels = [c for c in range(16) if c != DRUM_CHANNEL]
    for number, (part, part_measures) in enumerate(zip(parts, measures, strict=True)):
        # each part in its own measures: in a damaged score they need not line up
        part_order = playing_order(part_measures)
        notes = _notes(part_measures, part_order, _played_starts(part_measures, part_order))
        channel = channels[number % len(channels)]
        midi.tracks.append(_part_track(part, notes, channel))
    return midi


def _played_starts(measures: list, order: list[int]) -> list[Fraction]:
    """Where each played measure starts, in quarter notes; a measure lasts until the next one
    starts in the score (the last one as long as its contents)."""
    offsets = [Fraction(m.offset) for m in measures]
    lengths = [b - a for a, b in zip(offsets, offsets[1:], strict=False)]
    if measures:
        lengths.append(Fraction(measures[-1].duration.quarterLength))
    starts, now = [], Fraction(0)
    for index in order:
        starts.append(now)
        now += lengths[index]
    return starts


def _ticks(quarters: Fraction) -> int:
    return round(quarters * TICKS_PER_QUARTER)


def _conductor(measures: list, order: list[int], starts: list[Fraction]) -> mido.MidiTrack:
    from music21 import key, meter, tempo

    events: list[tuple[int, int, mido.MetaMessage]] = []  # (tick, kind, message)
    signature, beats_per_minute, first_key = None, None, None
    for index, start in zip(order, starts, strict=True):
        measure = measures[index]
        for element in measure.recurse().getElementsByClass(
            (meter.TimeSignature, tempo.MetronomeMark, key.KeySignature)
        ):
            tick = _ticks(start + Fraction(element.getOffsetInHierarchy(measure)))
            if isinstance(element, meter.TimeSignature):
                current = (element.numerator, element.denominator)
                if current != signature:
                    signature = current
                    events.append((tick, 2, _time_signature(*current)))
            elif isinstance(element, tempo.MetronomeMark):
                bpm = element.getQuarterBPM()
                if bpm and bpm != beats_per_minute:
                    beats_per_minute = bpm
                    events.append((tick, 0, _tempo(bpm)))
            elif first_key is None:
                first_key = element
                name = _key_name(element)
                if name is not None:
                    events.append((tick, 1, mido.MetaMessage("key_signature", key=name)))
    if beats_per_minute is None:
        events.append((0, 0, _tempo(DEFAULT_TEMPO)))
    if signature is None:
        events.append((0, 2, _time_signature(4, 4)))
    return _track(events)


def _tempo(bpm: float) -> mido.MetaMessage:
    return mido.MetaMessage("set_tempo", tempo=round(60_000_000 / bpm))


def _time_signature(numerator: int, denominator: int) -> mido.MetaMessage:
    return mido.MetaMessage("time_signature", numerator=numerator, denominator=denominator)


def _key_name(signature) -> str | None:
    """mido's name for a key signature ('F#m', 'Bb'), or None where it has none."""
    mode = getattr(signature, "mode", None) or "major"
    if mode not in ("major", "minor"):
        return None
    tonic = signature.asKey(mode).tonic.name.replace("-", "b")
    name = tonic + ("m" if mode == "minor" else "")
    return name if name in _MIDO_KEYS else None


_MIDO_KEYS = set(mido.midifiles.meta._key_signature_decode.values())


def _notes(measures: list, order: list[int], starts: list[Fraction]) -> list[list]:
    """[start, end, pitch, velocity] in quarter notes, in playing order; a tied note lasts until
    its tie ends. Grace notes and chord symbols are left out."""
    from music21 import harmony, stream

    notes: list[list] = []
    tied: dict[tuple, list] = {}  # (voice, pitch) → the note a tie from it would continue
    for index, start in zip(order, starts, strict=True):
        measure = measures[index]
        for element in measure.recurse().notes:
            if isinstance(element, harmony.Harmony):
                continue
            length = Fraction(element.duration.quarterLength)
            if length <= 0:  # a grace note: music21 writes it as a note-on without its own
                continue  # note-off, which MIDI readers pair with the main note's
            onset = start + Fraction(element.getOffsetInHierarchy(measure))
            velocity = element.volume.velocity or DEFAULT_VELOCITY
            site = element.activeSite
            voice = site.id if isinstance(site, stream.Voice) else None
            for chord_note in getattr(element, "notes", None) or [element]:
                pitch = chord_note.pitch.midi
                tie = chord_note.tie or element.tie
                tie = tie.type if tie is not None else None
                held = tied.get((voice, pitch)) or next(  # a tie may cross into a voice
                    (n for (_, p), n in tied.items() if p == pitch and n[1] == onset), None
                )
                if tie in ("stop", "continue") and held is not None and held[1] == onset:
                    held[1] = onset + length
                else:
                    held = [onset, onset + length, pitch, velocity]
                    notes.append(held)
                for key in [k for k, n in tied.items() if n is held]:
                    del tied[key]
                if tie in ("start", "continue"):
                    tied[(voice, pitch)] = held
                else:
                    tied.pop((voice, pitch), None)
    return notes


def _part_track(part, notes: list[list], channel: int) -> mido.MidiTrack:
    events: list[tuple[int, int, mido.Message | mido.MetaMessage]] = []
    name = part.partName or ""
    events.append((0, 0, mido.MetaMessage("track_name", name=name)))
    instrument = part.getInstrument(returnDefault=False)
    program = getattr(instrument, "midiProgram", None) or 0
    events.append((0, 1, mido.Message("program_change", channel=channel, program=program)))
    for start, end, pitch, velocity in notes:
        on = mido.Message("note_on", channel=channel, note=pitch, velocity=velocity)
        off = mido.Message("note_off", channel=channel, note=pitch, velocity=0)
        events.append((_ticks(start), 3, on))
        events.append((_ticks(end), 2, off))
    return _track(events)


def _track(events: list[tuple[int, int, object]]) -> mido.MidiTrack:
    """Events sorted by tick (note-offs before note-ons at one tick), as delta times."""
    track = mido.MidiTrack()
    now = 0
    for tick, _, message in sorted(events, key=lambda event: (event[0], event[1])):
        track.append(message.copy(time=tick - now))
        now = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track
