"""The `abc` codec: folk tunes in ABC notation, one normalised tune per piece."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rnnmusic.codecs.abc.normalise import SkippedTune, tune_from_raw, tune_from_text
from rnnmusic.codecs.abc.profile import count_notes, piece_facts
from rnnmusic.codecs.abc.reader import read_abc_text, split_tunes
from rnnmusic.codecs.abc.transpose import all_keys, to_plain_key
from rnnmusic.codecs.abc.tune import Tune, without_chord_symbols
from rnnmusic.codecs.abc.writer import abc_document, write_tune
from rnnmusic.codecs.base import Codec, Option, Piece, Pieces, Source
from rnnmusic.errors import CodecError
from rnnmusic.profile import CorpusProfile, PieceFacts

TRANSPOSE_CHOICES = ("none", "all", "c")
_MELODY = re.compile(
    r"""^[A-Za-z]:.*$|"[^"\n]*"|![^!\n]*!|\[[A-Za-z]:[^\]\n]*\]
    |(?P<letter>[A-Ga-g])(?P<octave>[,']*)(?P<length>\d*/*\d*)|(?P<rest>[zxZ]\d*/*\d*)""",
    re.MULTILINE | re.VERBOSE,
)


@dataclass
class AbcPiece(Piece):
    """A decoded tune; `text` is its canonical form (header + body, without X: and T:)."""

    tune: Tune | None = None

    def abc(self, title: str = "rnnmusic sample", number: int = 1) -> str:
        """A complete ABC tune that abc2midi, EasyABC, abcjs and music21 read."""
        return abc_document(self.text, title, number)


class AbcCodec(Codec):
    name = "abc"
    description = "ABC tunes: the musical header fields (R: M: L: K:) and the body, normalised"
    profile_version = 2  # 2: step_range
    extensions = (".abc",)
    writes = (".abc", ".mid")
    separator = "\n\n"  # a normalised tune never holds a blank line
    default_corpus = "folk-abc"
    OPTIONS = (
        Option(
            "transpose",
            str,
            "none",
            "none: keys as written; c: move every tune to the key signature without sharps "
            "or flats (C major, A minor, D dorian…) as folk-rnn did; all: every tune in all "
            "12 keys (12× the data; a tune's copies share its train/validation split)",
            choices=TRANSPOSE_CHOICES,
        ),
        Option(
            "chord_symbols",
            bool,
            True,
            'keep chord symbols ("Am7") and play them in written MIDI as a bass-and-chord '
            "accompaniment, as abc2midi does; --no-chord-symbols leaves them out of the text "
            "and the MIDI",
        ),
    )
    transpose: str
    chord_symbols: bool

    @classmethod
    def sources(cls) -> tuple[Source, ...]:
        from rnnmusic.codecs.abc.corpus import FOLK_ABC

        return (FOLK_ABC,)

    # -- reading ---------------------------------------------------------------------------------

    def encode_file(self, path: str | Path) -> list[str]:
        self.check_extension(path)
        preamble, raw_tunes = split_tunes(read_abc_text(path))
        if not raw_tunes:
            raise CodecError(path, "holds no ABC tunes (no tune with X: and K: fields)")
        pieces = Pieces()
        for raw in raw_tunes:
            try:
                tune = tune_from_raw(raw, preamble)
            except SkippedTune as skip:
                pieces.skipped.append(skip.reason)
                pieces.left_out.append(f"{raw.label}: {skip.reason}")
                continue
            if not self.chord_symbols:
                tune = without_chord_symbols(tune)
            pieces.extend(version.text for version in self.versions(tune))
        if not pieces:
            reasons = ", ".join(f"{n} × {r}" for r, n in Counter(pieces.skipped).most_common())
            raise CodecError(
                path, f"holds {len(raw_tunes)} tune(s) but none the abc codec keeps ({reasons})"
            )
        return pieces

    def versions(self, tune: Tune) -> list[Tune]:
        """The tune as the `transpose` option asks: as written, in C/A minor, or in 12 keys."""
        if self.transpose == "c":
            return [to_plain_key(tune)]
        if self.transpose == "all":
            return all_keys(tune)
        return [tune]

    def split_key(self, piece: str) -> str:
        """The tune's melody as letter steps between notes, with lengths and rests: equal for
        its transposed copies (`--transpose all`) and for other transcriptions that differ only
        in key, bar lines, ornaments or layout, so none of them is validated on after being
        trained on."""
        return melody_key(piece)

    def piece_facts(self, text: str) -> PieceFacts:
        return piece_facts(text)

    def count_notes(self, piece: Piece) -> int:
        return count_notes(piece.text)

    def constraint(self, vocab: list[str], profile: CorpusProfile | None = None):
        """`generate --strict`: the grammar, with bars that fill the meter (see strict.py)."""
        from rnnmusic.codecs.abc.strict import AbcConstraint

        return AbcConstraint(vocab, profile)

    def grammar(self, profile: CorpusProfile | None = None):
        """`generate --strict`: only tunes that decode unchanged and that music21 and abc2midi
        read (see strict_grammar.py)."""
        from rnnmusic.codecs.abc.strict_grammar import AbcGrammar

        return AbcGrammar(profile)

    def piece_stats(self, piece: Piece) -> dict[str, float]:
        """What `rnnmusic eval` reports for tunes: whether music21 and abc2midi read the tune,
        and whether its bars hold what the meter says (the first and last bar, which may be
        a pickup and its completion, left out)."""
        import music21

        from rnnmusic.codecs.abc.clients import abc2midi_available, abc2midi_errors

        tune = piece if isinstance(piece, AbcPiece) else self.decode(piece.text)
        abc = tune.abc()
        stats: dict[str, float] = {}
        if abc2midi_available():
            stats["abc2midi_clean"] = float(not abc2midi_errors(abc))
        try:
            score = music21.converter.parseData(abc, format="abc")
        except Exception:  # music21 fails in many ways on tunes it cannot read
            stats["music21_parses"] = 0.0
            return stats
        stats["music21_parses"] = 1.0
        part = score.parts[0] if score.parts else score
        inner = list(part.getElementsByClass("Measure"))[1:-1]
        if inner and tune.tune is not None and tune.tune.meter != "none":
            full = [m.duration.quarterLength == m.barDuration.quarterLength for m in inner]
            stats["bars_as_meter_share"] = sum(full) / len(full)
            stats["all_bars_as_meter"] = float(all(full))
        return stats

    # -- writing ---------------------------------------------------------------------------------

    def decode(self, text: str) -> AbcPiece:
        tune, repairs = tune_from_text(text)
        if not self.chord_symbols and tune.symbols:
            repairs.append(f"dropped {tune.symbols} chord symbol(s) (--no-chord-symbols)")
            tune = without_chord_symbols(tune)
        return AbcPiece(text=tune.text, repairs=repairs, tune=tune)

    def write(self, piece: Piece, path: str | Path) -> None:
        """`.abc` as text; `.mid` through the codec's own player, which plays what abc2midi
        plays (repeats, grace notes, ornaments, chord symbols: see play/)."""
        self.check_output(path)
        if not isinstance(piece, AbcPiece) or piece.tune is None:
            piece = self.decode(piece.text)
        assert piece.tune is not None
        write_tune(piece.text, piece.tune, path, chord_symbols=self.chord_symbols)


def melody_key(piece: str) -> str:
    """Notes as steps between letters (accidentals, key and spelling left out) plus lengths."""
    parts, previous = [], None
    for match in _MELODY.finditer(piece):
        if match.group("letter"):
            octave = match.group("octave")
            step = "CDEFGABcdefgab".index(match.group("letter"))
            step += 7 * (octave.count("'") - octave.count(","))
            parts.append(f"{0 if previous is None else step - previous}:{match.group('length')}")
            previous = step
        elif match.group("rest"):
            parts.append(match.group("rest"))
    return " ".join(parts)
