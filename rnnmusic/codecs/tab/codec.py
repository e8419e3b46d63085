"""The `tab` codec: guitar music as time-sliced chord columns (the seed's `123.456.789`).

Reads ASCII tabs (.txt/.tab), Guitar Pro 3-5 files, and MIDI and ABC melodies (fingered onto
the strings); writes ASCII tab, .gp5 and .mid. The text format is codecs/tab/README.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from rnnmusic.codecs.base import Codec, Option, Piece, Source
from rnnmusic.codecs.tab.abc_reader import read_abc_tabs
from rnnmusic.codecs.tab.ascii_reader import read_ascii
from rnnmusic.codecs.tab.ascii_writer import format_ascii
from rnnmusic.codecs.tab.decoder import is_tab_text, parse_text
from rnnmusic.codecs.tab.encoder import format_tab
from rnnmusic.codecs.tab.gp import read_gp_tab
from rnnmusic.codecs.tab.gp_writer import for_guitar_pro, write_gp5
from rnnmusic.codecs.tab.midi import describe_midi_reading, read_midi_tab, write_midi
from rnnmusic.codecs.tab.model import GRIDS, MAX_GRID, TUNINGS, Tab, is_grid
from rnnmusic.codecs.tab.profile import FRETS, piece_facts
from rnnmusic.codecs.text import read_text_file
from rnnmusic.errors import CodecError, RnnMusicError
from rnnmusic.profile import CorpusProfile, PieceFacts

log = logging.getLogger(__name__)

GP_EXTENSIONS = (".gp3", ".gp4", ".gp5")
MIDI_EXTENSIONS = (".mid", ".midi")
TEXT_EXTENSIONS = (".txt", ".tab")
MAX_TAB_TEXT_BYTES = 16 * 1024 * 1024  # a tab this big is not one song; it takes minutes to read
AUTO_GRID = "auto"


@dataclass
class TabPiece(Piece):
    """A decoded piece with its grid, ready for any writer."""

    tab: Tab = field(default_factory=Tab)


class TabCodec(Codec):
    name = "tab"
    description = (
        "guitar tab as time-sliced columns, one character per string (ASCII tab, Guitar Pro, "
        "MIDI/ABC melodies fingered onto the strings)"
    )
    extensions = (*TEXT_EXTENSIONS, *GP_EXTENSIONS, *MIDI_EXTENSIONS, ".abc")
    writes = (".txt", ".gp5", ".mid")
    separator = "\n\n"
    default_corpus = "folk-tabs"
    OPTIONS = (
        Option(
            "grid",
            str,
            AUTO_GRID,
            "tab grid steps per whole note: 'auto' (default) picks per file the coarsest from 16 "
            "up that holds every onset; 16 sixteenths, 48 sixteenths and triplets, 60 triplets "
            "and quintuplets, 96 32nds and triplets (any of " + ", ".join(map(str, GRIDS)) + ", "
            "or another a power of two times Guitar Pro's tuplets 3, 5, 7, 9, 11, 13, up to "
            f"{MAX_GRID})",
        ),
        Option(
            "track",
            int,
            None,
            "Guitar Pro or MIDI track to read, counting from 1 (default: the first guitar track)",
        ),
        Option(
            "tuning",
            str,
            "standard",
            "tuning that MIDI and ABC melodies are fingered for",
            choices=tuple(TUNINGS),
        ),
        Option(
            "open_position",
            bool,
            False,
            "play MIDI and ABC melodies that lie above open position whole octaves lower, so "
            "that most notes fall on open strings and frets 1-4 (--open-position; default off: "
            "the written octave, fingered where a guitarist would play it)",
        ),
    )

    grid: str
    track: int | None
    tuning: str
    open_position: bool

    @classmethod
    def sources(cls) -> tuple[Source, ...]:
        from rnnmusic.codecs.tab.corpus import FOLK_TABS

        return (FOLK_TABS,)

    def validate_options(self) -> None:
        if self.grid == AUTO_GRID:
            return
        if not (self.grid.isdigit() and is_grid(int(self.grid))):
            raise RnnMusicError(
                f"codec option --grid must be 'auto' or a grid such as 16, 48 or 60, got "
                f"{self.grid!r} (steps per whole note: a power of two times 3, 5, 7, 9, 11 or "
                f"13, from 4 to {MAX_GRID})"
            )

    @property
    def fixed_grid(self) -> int | None:
        """The grid asked for, or None for a grid chosen per file."""
        return None if self.grid == AUTO_GRID else int(self.grid)

    def encode_file(self, path: str | Path) -> list[str]:
        ext = self.check_extension(path)
        tuning = TUNINGS[self.tuning]
        if ext in GP_EXTENSIONS:
            reading = read_gp_tab(path, self.fixed_grid, self.track)
            for remark in reading.remarks:
                log.warning("%s: %s", path, remark)
            tabs = [reading.tab]
        elif ext in MIDI_EXTENSIONS:
            tabs = [read_midi_tab(path, tuning, self.fixed_grid, self.track, self.open_position)]
        elif ext == ".abc":
            tabs = read_abc_tabs(path, tuning, self.fixed_grid, self.open_position)
        else:
            tabs = self._read_text(path)
        pieces = [encode_tab(tab) for tab in tabs if tab.notes()]
        if not pieces:
            raise CodecError(path, "holds no notes")
        return pieces

    def describe_input(self, path: str | Path) -> list[str]:
        """What `convert` says about how it read a file: for MIDI, the instrument it took and
        why, and the tempo."""
        if Path(path).suffix.lower() in MIDI_EXTENSIONS:
            return describe_midi_reading(path, self.track)
        return []

    def _read_text(self, path: str | Path) -> list[Tab]:
        text = read_text_file(path, self.name, MAX_TAB_TEXT_BYTES)
        if is_tab_text(text):  # this codec's own text, e.g. a saved sample
            return [parse_text(piece)[0] for piece in self.split_pieces(text)]
        reading = read_ascii(text, self.fixed_grid)
        if not reading.tabs:
            raise CodecError(
                path,
                "holds no tab staff (four to eight lines like e|--0--2--| one above the other)",
            )
        if reading.skipped:
            shown = "; ".join(reading.skipped[:3])
            more = f" and {len(reading.skipped) - 3} more" if len(reading.skipped) > 3 else ""
            log.warning("%s: skipped %s%s", path, shown, more)
        return reading.tabs

    def decode(self, text: str) -> TabPiece:
        tab, repairs = parse_text(text)
        return TabPiece(text=text, repairs=repairs, tab=tab)

    def piece_stats(self, piece: Piece) -> dict[str, float]:
        """What `rnnmusic eval` reports for tabs next to the training pieces: how often nothing is
        struck (char-rnn tab models drift into rests at low temperature), how often the frets
        struck together fit one hand (fretted notes at most MAX_SPAN frets apart), and the notes
        with a pitch: the MIDI count takes a dead note (x, a click) for one."""
        from rnnmusic.codecs.tab.alphabet import DEAD, FRET_CHARS
        from rnnmusic.codecs.tab.fingering import MAX_SPAN

        tab = piece.tab if isinstance(piece, TabPiece) else self.decode(piece.text).tab
        columns = tab.columns()
        if not columns:
            return {"groups": 0.0}
        struck = [[c for c in column.cells if c in FRET_CHARS] for column in columns]
        chords = [frets for frets in struck if frets]
        fretted = [[FRET_CHARS.index(c) for c in frets if c != "0"] for frets in chords]
        playable = [not f or max(f) - min(f) <= MAX_SPAN for f in fretted]
        pitched = sum(len(frets) for frets in struck)
        dead = sum(column.cells.count(DEAD) for column in columns)
        return {
            "groups": float(len(columns)),
            "silent_group_share": sum(set(col.cells) == {"-"} for col in columns) / len(columns),
            "playable_share": sum(playable) / len(playable) if playable else 1.0,
            "pitched_notes": float(pitched),
            "dead_note_share": dead / (dead + pitched) if dead + pitched else 0.0,
        }

    def piece_facts(self, text: str) -> PieceFacts:
        return piece_facts(text)

    def count_notes(self, piece: Piece) -> int:
        tab = piece.tab if isinstance(piece, TabPiece) else parse_text(piece.text)[0]
        return sum(1 for bar in tab.bars for column in bar for ch in column.cells if ch in FRETS)

    def constraint(self, vocab: list[str], profile: CorpusProfile | None = None):
        """`generate --strict`: only text that decodes with zero repairs (see strict.py)."""
        from rnnmusic.codecs.tab.strict import TabConstraint

        return TabConstraint(vocab, profile)

    def write(self, piece: Piece, path: str | Path) -> None:
        ext = self.check_output(path)
        tab = piece.tab if isinstance(piece, TabPiece) else parse_text(piece.text)[0]
        if ext == ".txt":
            Path(path).write_text(format_ascii(tab), encoding="utf-8")
            return
        # .gp5 and .mid play the same notes: both from the tab as Guitar Pro can spell it
        tab, moved = for_guitar_pro(tab)
        if moved:
            log.warning(
                "%s: %d note(s) moved to the nearest onset Guitar Pro can write (one beat "
                "cannot hold a triplet and a quintuplet)",
                path,
                moved,
            )
        if ext == ".gp5":
            write_gp5(tab, path, title=Path(path).stem)
        else:
            write_midi(tab, path)


def encode_tab(tab: Tab) -> str:
    """The text of a tab, passed once through the reader so that it decodes with no repairs."""
    text = format_tab(tab)
    parsed, repairs = parse_text(text)
    return format_tab(parsed) if repairs else text
