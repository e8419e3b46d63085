"""What abc2midi works out over the whole feature list before playing it, in its order:
a `||` where the music starts (and a `|:` there when the tune has an end repeat before any
start repeat), grace-note lengths, chord lengths and ties, repeat signs it assumes, trills."""

from __future__ import annotations

from fractions import Fraction

from rnnmusic.codecs.abc.play import features as F
from rnnmusic.codecs.abc.play.features import Feature

GRACE_SHARE = 4  # a grace note plays a quarter of its written length, taken from the next note
TEMPO = 500_000  # microseconds a quarter note: abc2midi's default, which sets a trill's speed
FASTEST_TRILL_NOTE = 100_000  # microseconds; trill notes are halved until they are this short


def prepare(features: list[Feature], unit: int) -> list[Feature]:
    """All passes in abc2midi's order; `unit` is the header's L: denominator."""
    start_repeats(features)
    i, dropped = 0, False
    while i < len(features):
        if features[i].kind == F.GRACE_ON:
            end = place_grace_notes(features, i)
            if end is not None:  # abc2midi then looks on past what followed the grace notes
                i, dropped = end + 2, True
                continue
        i += 1
    if dropped:
        features[:] = [f for f in features if f.kind != F.DROPPED]
    tie_notes(features)
    assume_repeats(features)
    features[:] = expand_trills(features, unit)
    meters_after_bar_lines(features)
    return features


def start_repeats(features: list[Feature]) -> None:
    """A `||` where the music starts; a `|:` after it when an end repeat (`:|`, `::`) comes
    before any start repeat."""
    start = next((i + 1 for i, f in enumerate(features) if f.kind == F.MUSIC_LINE), None)
    if start is None:
        return
    features.insert(start, Feature(F.DOUBLE_BAR))
    for feature in features[start + 1 :]:
        if feature.kind == F.BAR_REP:
            return
        if feature.kind in (F.REP_BAR, F.DOUBLE_REP):
            features.insert(start + 1, Feature(F.BAR_REP))
            return


def place_grace_notes(features: list[Feature], start: int) -> int | None:
    """Grace notes play a quarter of their written length each and take that time from the
    note (or chord) after them. They are dropped when that note is too short for them, or
    when a bar line comes first: then they are marked DROPPED and their end is returned."""
    end = next((j for j in range(start + 1, len(features)) if features[j].kind == F.GRACE_OFF), -1)
    if end == -1:
        return None
    host_start = host_end = -1
    in_chord = False
    j = end + 1
    while j < len(features):
        kind = features[j].kind
        if kind in (F.SINGLE_BAR, F.DOUBLE_BAR):
            return _drop(features, start, end)
        if kind in (F.NOTE, F.REST):
            host_start = j
            break
        if kind == F.CHORD_ON:
            in_chord = True
        j += 1
    if host_start == -1:
        return None  # abc2midi: "No note found to follow grace notes"
    host_end = host_start
    if in_chord:
        host_end = next(
            (
                k
                for k in range(host_start, len(features))
                if features[k].kind in (F.CHORD_OFF, F.CHORD_OFF_LENGTH)
            ),
            -1,
        )
    grace = Fraction(0)
    notes_in_chord = -1  # of a chord among the grace notes, only the first note counts
    for feature in features[start : end + 1]:
        if feature.kind in (F.NOTE, F.REST) and notes_in_chord <= 0:
            assert feature.length is not None
            grace += feature.length
            if notes_in_chord == 0:
                notes_in_chord = 1
        elif feature.kind == F.CHORD_ON:
            notes_in_chord = 0
        elif feature.kind == F.CHORD_OFF:
            notes_in_chord = -1
    host_length = features[host_start].length
    assert host_length is not None
    left = host_length - grace / GRACE_SHARE
    if left <= 0:
        return _drop(features, start, end)  # "Grace sequence exceeds host note"
    for feature in features[host_start : host_end + 1]:
        if feature.kind in (F.NOTE, F.REST, F.CHORD_OFF, F.CHORD_OFF_LENGTH):
            feature.length = left
    for feature in features[start : end + 1]:
        if feature.kind in (F.NOTE, F.REST, F.CHORD_OFF, F.CHORD_OFF_LENGTH):
            assert feature.length is not None
            feature.length = feature.length / GRACE_SHARE
    return None


def _drop(features: list[Feature], start: int, end: int) -> int:
    for feature in features[start : end + 1]:
        feature.kind = F.DROPPED
    return end


def tie_notes(features: list[Feature]) -> None:
    """A chord lasts as long as its first note; a tie joins a note to the next note of the same
    pitch that starts when it ends (across a bar line, the same letter and octave)."""
    in_chord = False
    chord_length: Fraction | None = None
    j = 0
    while j < len(features):
        feature = features[j]
        if feature.kind == F.CHORD_ON:
            in_chord, chord_length = True, None
        elif feature.kind == F.CHORD_OFF_LENGTH:
            in_chord = False
        elif feature.kind == F.CHORD_OFF:
            if in_chord and chord_length is not None:
                feature.length = chord_length
            in_chord = False
        elif feature.kind in (F.NOTE, F.REST):
            if in_chord and chord_length is None:
                chord_length = feature.length
        elif feature.kind == F.TIE:
            _tie(features, j, in_chord)
        j += 1


def _tie(features: list[Feature], j: int, in_chord: bool) -> None:
    tied = j
    while tied > 0 and features[tied].kind not in (F.NOTE, F.REST):
        tied -= 1
    if features[tied].kind != F.NOTE:
        return  # "Cannot find note before tie"
    note = features[tied]
    assert note.length is not None
    note.kind = F.TNOTE
    features[j] = Feature(F.REST, length=note.length)  # the tie keeps the time
    left = note.length
    last_tie = j
    waiting = True  # for the note the tie goes to
    same_chord = in_chord
    new_bar = False
    last_note = -1
    place = j
    while place < len(features) and left >= 0:
        feature = features[place]
        kind = feature.kind
        if kind in (F.SINGLE_BAR, F.BAR_REP, F.REP_BAR, F.DOUBLE_BAR):
            new_bar = waiting
        elif kind == F.NOTE:
            last_note = place
            if left == 0 and not waiting:
                return
            matches = (feature.natural == note.natural and new_bar) or feature.pitch == note.pitch
            if matches and waiting and not same_chord:
                waiting = False
                feature.pitch = note.pitch
                assert feature.length is not None
                left += feature.length
                note.length += feature.length
                feature.kind = F.REST
                if last_tie != j:
                    features[last_tie].kind = F.OLD_TIE
            if not in_chord:
                assert feature.length is not None
                left -= feature.length
        elif kind == F.REST:
            if left == 0 and not waiting:
                return
            if not in_chord:
                assert feature.length is not None
                left -= feature.length
        elif kind == F.TIE:
            if last_note != -1 and features[last_note].pitch == note.pitch and not same_chord:
                last_tie = place
                waiting = True
                if in_chord:
                    same_chord = True
        elif kind == F.CHORD_ON:
            in_chord = True
        elif kind in (F.CHORD_OFF, F.CHORD_OFF_LENGTH):
            same_chord = False
            in_chord = False
            assert feature.length is not None
            left -= feature.length
        place += 1


def assume_repeats(features: list[Feature]) -> None:
    """abc2midi's repairs of missing start repeats: a `:|` (or an ending, or `::`) with no
    `|:` open turns the last `||` or `:|` before it (or the first bar line after one) into a
    start repeat; a second `|:` while one is open becomes `::`."""
    rep_point = 0
    expect_repeat = False
    use_next = False
    endings = 0
    for j, feature in enumerate(features):
        kind = feature.kind
        if kind == F.SINGLE_BAR:
            if use_next:
                rep_point, use_next = j, False
        elif kind == F.DOUBLE_BAR:
            rep_point, use_next = j, False
        elif kind == F.BAR_REP:
            if expect_repeat:
                _end_repeat_at(features, j)
            expect_repeat, use_next = True, False
        elif kind == F.REP_BAR:
            if not expect_repeat and endings < 1:
                _start_repeat_at(features, rep_point)
            expect_repeat, rep_point, use_next = False, j, False
        elif kind == F.PLAY_ON_REP:
            if endings == 0 and not expect_repeat:
                _start_repeat_at(features, rep_point)
            endings += 1
        elif kind == F.DOUBLE_REP:
            if not expect_repeat:
                _start_repeat_at(features, rep_point)
            expect_repeat = True


def _end_repeat_at(features: list[Feature], j: int) -> None:
    kind = features[j].kind
    if kind in (F.DOUBLE_BAR, F.SINGLE_BAR):
        features[j].kind = F.REP_BAR
    elif kind == F.BAR_REP:
        features[j].kind = F.DOUBLE_REP


def _start_repeat_at(features: list[Feature], j: int) -> None:
    kind = features[j].kind
    if kind in (F.DOUBLE_BAR, F.SINGLE_BAR):
        features[j].kind = F.BAR_REP
    elif kind == F.REP_BAR:
        features[j].kind = F.DOUBLE_REP


def expand_trills(features: list[Feature], unit: int) -> list[Feature]:
    """A trilled note becomes the note above and the note in turn, in notes of 4/b quarters
    with b a multiple of the unit length's denominator, at least 20 (32nd notes at L:1/8).
    A trilled tied note trills on through the notes tied to it."""
    out: list[Feature] = []
    skip: set[int] = set()
    for i, feature in enumerate(features):
        if i in skip:
            continue
        if feature.trill is None or feature.kind not in (F.NOTE, F.TNOTE):
            out.append(feature)
            continue
        if feature.kind == F.TNOTE:
            feature.kind = F.NOTE
            skip |= _tied_rests(features, i)
        assert feature.length is not None
        units = feature.length * unit / 4  # the note's length in header units
        count, b = units.numerator, units.denominator * unit
        while TEMPO * 4 // b > FASTEST_TRILL_NOTE:
            count, b = count * 2, b * 2
        piece = Fraction(4, b)
        out += [
            Feature(
                F.NOTE,
                pitch=feature.trill.upper if n % 2 == 0 else feature.pitch,
                length=piece,
                natural=feature.natural,
            )
            for n in range(count)
        ]
    return out


def _tied_rests(features: list[Feature], i: int) -> set[int]:
    """The rests a tie left after a note (abc2midi looks at six features at most and stops
    after the rest that was the tied note)."""
    found = set()
    for j in range(i, min(i + 6, len(features))):
        if features[j].kind == F.REST:
            found.add(j)
            if features[j].pitch != 0:
                break
    return found


def meters_after_bar_lines(features: list[Feature]) -> None:
    """A meter change written just before a bar line takes effect after it."""
    for i in range(4, len(features) - 1):
        if features[i].kind == F.METER and features[i + 1].kind == F.SINGLE_BAR:
            features[i], features[i + 1] = features[i + 1], features[i]
