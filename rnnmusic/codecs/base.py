"""The codec contract: how a notation becomes text for the model and how text becomes files again.

The engine never looks inside a codec's text; a codec never knows there is a model. Everything a
codec needs to be rebuilt later (its name and options) is stored in every corpus and checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rnnmusic.errors import CodecError, RnnMusicError
from rnnmusic.profile import CorpusProfile, PieceFacts


@dataclass
class Piece:
    """One piece of music decoded from text, plus what had to be repaired to make it valid.

    Codecs subclass this to carry their own musical object (a MIDI file, a tune, a tab)."""

    text: str
    repairs: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.repairs


class Pieces(list):
    """What `encode_file` may return instead of a plain list when it left some pieces of a file
    out (a multi-voice tune, a tune without notes): `skipped` holds one short reason per piece
    left out, and corpus building counts them in its report; `left_out` says which piece and
    why ("tune X:3 (Title) at line 40: multi-voice tune (V:)"), for `convert` to name them."""

    def __init__(self, pieces: Iterable[str] = (), skipped: Iterable[str] = ()):
        super().__init__(pieces)
        self.skipped: list[str] = list(skipped)
        self.left_out: list[str] = []


@dataclass(frozen=True)
class Option:
    """A codec setting that changes the text it produces; exposed as `--NAME` on the CLI."""

    name: str
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] | None = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Source:
    """A built-in corpus: music or text that ships inside installed packages, so training needs
    no network. A codec declares its own in `Codec.sources()`; `rnnmusic.sources` asks them."""

    name: str
    description: str
    licence: str
    codecs: tuple[str, ...]
    files: Callable[[], list[Path]]  # may convert into the cache on first use
    raw_files: Callable[[], list[Path]]  # the shipped files, for `corpus list` (cheap)


class Codec:
    """Base class for codecs. Subclasses set the class attributes and implement the three methods.

    Instances are small picklable objects (corpus building sends them to worker processes)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    extensions: ClassVar[tuple[str, ...]] = ()  # files encode_file reads
    writes: ClassVar[tuple[str, ...]] = ()  # files write() produces, by extension
    separator: ClassVar[str] = "\n\n"  # between pieces in a corpus; never inside a piece
    default_corpus: ClassVar[str | None] = None  # name of a built-in source (see sources())
    # worker processes pay off when encoding costs more than sending the pieces back; for plain
    # text it does not (benchmarks/corpus_speed.py: two workers run at 0.3× one), so corpus
    # build uses one process unless --jobs asks for more
    parallel_encode: ClassVar[bool] = True
    # raise when piece_facts learns a new fact: a corpus built before works its profile out
    # again, so strict sampling does not go without the fact
    profile_version: ClassVar[int] = 1
    OPTIONS: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, **options: Any):
        known = {o.name: o for o in self.OPTIONS}
        unknown = sorted(set(options) - set(known))
        if unknown:
            valid = ", ".join(sorted(known)) or "none"
            raise RnnMusicError(
                f"codec {self.name!r} has no option {unknown[0]!r} (its options: {valid})"
            )
        for opt in self.OPTIONS:
            value = options.get(opt.name, opt.default)
            if value is not None and not isinstance(value, opt.type):
                try:
                    value = opt.type(value)
                except (TypeError, ValueError):
                    raise RnnMusicError(
                        f"codec option {opt.flag} expects {opt.type.__name__}, got {value!r}"
                    ) from None
            if opt.choices is not None and value not in opt.choices:
                choices = ", ".join(map(str, opt.choices))
                raise RnnMusicError(
                    f"codec option {opt.flag} must be one of {choices}, got {value!r}"
                )
            setattr(self, opt.name, value)
        self.validate_options()

    @classmethod
    def sources(cls) -> tuple[Source, ...]:
        """The built-in corpora this codec ships, for `rnnmusic.sources` to list and find. A
        codec imports the module that declares them here, when asked, not when it is loaded."""
        return ()

    def validate_options(self) -> None:
        """Hook for checks across options; raise RnnMusicError with a sentence."""

    def options(self) -> dict[str, Any]:
        return {opt.name: getattr(self, opt.name) for opt in self.OPTIONS}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items())
        return f"{type(self).__name__}({opts})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.options() == other.options()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.options().items()))))

    # -- the contract -------------------------------------------------------------------------

    def encode_file(self, path: str | Path) -> list[str]:
        """Text of each piece in the file. Raises CodecError (file + reason) on unreadable input."""
        raise NotImplementedError

    def decode(self, text: str) -> Piece:
        """Total: any string gives a Piece; what was fixed is listed in `Piece.repairs`."""
        raise NotImplementedError

    def write(self, piece: Piece, path: str | Path) -> None:
        """Write the piece in the format named by the path's extension (one of `writes`)."""
        raise NotImplementedError

    # -- grammar-constrained sampling (optional) ------------------------------------------------

    def grammar(self, profile: CorpusProfile | None = None):
        """A `rnnmusic.constraints.CharGrammar` for one piece followed by the separator, or None
        when every string is already valid. Used by `generate --strict`."""
        return None

    def constraint(self, vocab: list[str], profile: CorpusProfile | None = None):
        """The sampling constraint over a model's vocabulary, kept to the settings and sizes of
        the training pieces where `profile` records them; override for grammars that need more
        than a finite state machine (see rnnmusic.constraints.Constraint)."""
        grammar = self.grammar(profile)
        if grammar is None:
            return None
        from rnnmusic.constraints import TableConstraint

        return TableConstraint(grammar, vocab)

    def piece_facts(self, text: str) -> PieceFacts:
        """The settings a piece's text uses (tempo, meter, key, instruments, tuning …, spelled as
        in the text) and its sizes (notes, voices at once …). Corpus building gathers them over
        the training pieces into a `CorpusProfile`; strict sampling keeps samples to it."""
        return PieceFacts()

    def count_notes(self, piece: Piece) -> int | None:
        """Notes a decoded piece sounds, or None for codecs of plain text. `generate` draws a
        sample again when it holds none, rather than writing an empty file."""
        return None

    def split_key(self, piece: str) -> str:
        """Pieces with equal split keys go to the same train/validation split. A codec that
        writes several versions of one piece (transposed copies) returns what they share, so
        validation never scores a piece the model trained on in another form."""
        return piece

    def piece_stats(self, piece: Piece) -> dict[str, float]:
        """Codec-specific numbers `rnnmusic eval` reports for a decoded piece, averaged next to
        the same numbers for the training pieces (beside the MIDI statistics every codec that
        writes .mid gets). None by default: eval then shows only the MIDI statistics."""
        return {}

    def describe_input(self, path: str | Path) -> list[str]:
        """Lines `convert` prints about how it read a file (the tab codec names the MIDI track
        it took and why). None by default."""
        return []

    # -- helpers shared by codecs --------------------------------------------------------------

    def check_extension(self, path: str | Path, allowed: Iterable[str] | None = None) -> str:
        """The lower-case extension of `path`, or a CodecError naming the ones this codec handles."""
        allowed = tuple(allowed if allowed is not None else self.extensions)
        ext = Path(path).suffix.lower()
        if ext not in allowed:
            raise CodecError(
                path,
                f"the {self.name} codec does not handle {ext or 'files without an extension'} "
                f"(it handles {', '.join(allowed)})",
            )
        return ext

    def check_output(self, path: str | Path) -> str:
        ext = Path(path).suffix.lower()
        if ext not in self.writes:
            raise RnnMusicError(
                f"the {self.name} codec cannot write {ext or 'files without an extension'} "
                f"files; choose an output ending in {', '.join(self.writes)}"
            )
        return ext

    def split_pieces(self, text: str) -> list[str]:
        """Split a stream of generated or stored text into pieces at the separator."""
        return [p for p in text.split(self.separator) if p.strip()]
