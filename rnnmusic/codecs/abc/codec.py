"""The `abc` codec: folk tunes in ABC notation, one normalised tune per piece."""

from __future__ import annotations

import copy
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rnnmusic.codecs.abc.normalise import SkippedTune, tune_from_raw, tune_from_text
from rnnmusic.codecs.abc.reader import read_abc_text, split_tunes
from rnnmusic.codecs.abc.transpose import all_keys, to_plain_key
from rnnmusic.codecs.abc.tune import Tune
from rnnmusic.codecs.base import Codec, Option, Piece, Pieces
from rnnmusic.errors import CodecError, RnnMusicError

TRANSPOSE_CHOICES = ("none", "all", "c")
_PITCH_SPELLING = re.compile(r"[A-Ga-g#^_=',]")


@dataclass
class AbcPiece(Piece):
    """A decoded tune; `text` is its canonical form (header + body, without X: and T:)."""

    tune: Tune | None = None

    def abc(self, title: str = "rnnmusic sample", number: int = 1) -> str:
        """A complete ABC tune that abc2midi, EasyABC, abcjs and music21 read."""
        return f"X:{number}\nT:{title}\n{self.text}\n"


class AbcCodec(Codec):
    name = "abc"
    description = "ABC tunes: the musical header fields (R: M: L: K:) and the body, normalised"
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
            "12 keys (12× the data; copies of one tune share a train/validation split)",
            choices=TRANSPOSE_CHOICES,
        ),
    )
    transpose: str

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
                continue
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
        """Transposed copies of a tune must land in the same split, or validation would score
        tunes the model trained on in another key: they share their text minus pitch spelling."""
        if self.transpose == "all":
            return _PITCH_SPELLING.sub("", piece)
        return piece

    # -- writing ---------------------------------------------------------------------------------

    def decode(self, text: str) -> AbcPiece:
        tune, repairs = tune_from_text(text)
        return AbcPiece(text=tune.text, repairs=repairs, tune=tune)

    def write(self, piece: Piece, path: str | Path) -> None:
        ext = self.check_output(path)
        if not isinstance(piece, AbcPiece):
            piece = self.decode(piece.text)
        abc = piece.abc(f"rnnmusic sample {_sample_number(path)}", 1)
        if ext == ".abc":
            Path(path).write_text(abc, encoding="utf-8")
            return
        write_midi(abc, Path(path))


def _sample_number(path: str | Path) -> int:
    """`song-3.mid` is sample 3 (generate --num N names files so); anything else is sample 1."""
    match = re.search(r"-(\d{1,6})$", Path(path).stem)
    return int(match.group(1)) if match else 1


def write_midi(abc: str, path: Path) -> None:
    """Through music21, which plays repeats out. Where music21 cannot write a tune as it reads
    it (repeats that do not nest, a last bar longer than the meter: a sampler writes such
    things), the notes are written as notated, each once, rather than failing."""
    import music21

    try:
        music21.converter.parseData(abc, format="abc").write("midi", fp=str(path))
        return
    except Exception:  # music21 raises many types from deep inside its MIDI translation
        pass
    try:
        _as_notated(music21.converter.parseData(abc, format="abc")).write("midi", fp=str(path))
    except Exception as exc:
        raise RnnMusicError(f"music21 could not write {path} from the tune: {exc}") from exc


def _as_notated(score):
    """Each part's notes and rests at their offsets, without measures, repeats or signatures."""
    import music21

    out = music21.stream.Score()
    for part in score.parts or [score]:
        flat = music21.stream.Part()
        for element in part.flatten().notesAndRests:
            if not isinstance(element, music21.harmony.ChordSymbol):
                flat.insert(element.offset, copy.deepcopy(element))
        out.insert(0, flat)
    return out
