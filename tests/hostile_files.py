"""Hostile input files for every reader, made from real seed files at test time.

People feed rnnmusic whatever they scraped: half-downloaded MIDI files, tabs in odd encodings,
Guitar Pro files from versions it does not read, another format under a wrong extension. Each
reader here is one way a file gets read (a codec's `encode_file` for one kind of file, or the
MIDI check `render` and `plot` run); each `Hostile` is one such file, built from the reader's
seeds (committed golden files, project tabs, music21's ABC collections, a .gp5 PyGuitarPro
writes) so that nothing binary beyond those seeds is committed.
"""

from __future__ import annotations

import io
import random
import struct
import textwrap
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import guitarpro as gp
from midi_checks import deliberately_broken

from rnnmusic.codecs import get_codec
from rnnmusic.midi_input import read_midi, read_music
from rnnmusic.paths import music21_corpus_dir

ROOT = Path(__file__).resolve().parent.parent
MIDI_GOLDEN = ROOT / "codecs" / "midi_events" / "golden"
ABC_GOLDEN = ROOT / "codecs" / "abc" / "golden"
TAB_GOLDEN = ROOT / "codecs" / "tab" / "golden"
PROJECT_TABS = ROOT / "corpora" / "tabs"
ODD_FOLDER = "a folder with spaces/ÄÖÜ ♪ 名前"  # paths with spaces and non-ASCII names
HUGE_LINE_BYTES = 5_000_000


# -- seeds ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """A real file a reader reads: its name (with the extension it is read under) and bytes."""

    name: str
    data: bytes

    @property
    def ext(self) -> str:
        return Path(self.name).suffix


@cache
def midi_seeds() -> tuple[Seed, ...]:
    """A Bach chorale converted by music21 and a four-instrument band piece with drums."""
    return tuple(
        Seed(name, (MIDI_GOLDEN / name).read_bytes())
        for name in ("chorale-bwv66.6.mid", "band.mid")
    )


@cache
def abc_seeds() -> tuple[Seed, ...]:
    """The codec's golden session (file header, three tunes) and a tune from Ryan's Mammoth."""
    lanigan = music21_corpus_dir() / "ryansMammoth" / "LanigansBallJig.abc"
    return (
        Seed("session.abc", (ABC_GOLDEN / "session.abc").read_bytes()),
        Seed("lanigans-ball.abc", lanigan.read_bytes()),
    )


@cache
def ascii_tab_seeds() -> tuple[Seed, ...]:
    """A two-guitar tab the project wrote and the golden file of tab-writing quirks."""
    return (
        Seed("two-guitars.txt", (PROJECT_TABS / "two-guitars.txt").read_bytes()),
        Seed("quirks.tab", (TAB_GOLDEN / "quirks.txt").read_bytes()),
    )


@cache
def gp_seeds() -> tuple[Seed, ...]:
    """A project tab written as .gp5 by the tab codec (PyGuitarPro), then saved by PyGuitarPro
    as Guitar Pro 4 and 3: the same song in each version's byte layout."""
    import tempfile

    codec = get_codec("tab")
    with tempfile.TemporaryDirectory() as folder:
        gp5 = Path(folder) / "riff.gp5"
        (text,) = codec.encode_file(PROJECT_TABS / "rust-belt-riff.txt")
        codec.write(codec.decode(text), gp5)
        seeds = [Seed("riff.gp5", gp5.read_bytes())]
        song = gp.parse(str(gp5))
        for ext, version in ((".gp4", (4, 0, 6)), (".gp3", (3, 0, 0))):
            older = Path(folder) / f"riff{ext}"
            gp.write(song, str(older), version=version)  # else the song's own version, 5.10
            seeds.append(Seed(older.name, older.read_bytes()))
    return tuple(seeds)


@cache
def text_seeds() -> tuple[Seed, ...]:
    """Python source (the text codec's default corpus is the standard library) and prose."""
    return (
        Seed("textwrap.txt", Path(textwrap.__file__).read_bytes()),
        Seed("README.md", (PROJECT_TABS / "README.md").read_bytes()),
    )


# -- raw MIDI bytes ---------------------------------------------------------------------------


def varlen(value: int) -> bytes:
    """A MIDI variable-length quantity (at most four bytes, so at most 2^28 - 1)."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def smf(tracks: list[bytes], division: int = 96, file_type: int = 1, claimed: int | None = None):
    """A Standard MIDI File; `claimed` overrides the track count the header gives."""
    count = len(tracks) if claimed is None else claimed
    header = b"MThd" + struct.pack(">LHHh", 6, file_type, count, division)
    return header + b"".join(b"MTrk" + struct.pack(">L", len(t)) + t for t in tracks)


END = b"\x00\xff\x2f\x00"
C_MAJOR = b"\x00\x90\x3c\x64\x00\x40\x64\x00\x43\x64" + varlen(96) + b"\x80\x3c\x00\x00\x40\x00"
C_MAJOR += b"\x00\x43\x00"  # a one-beat chord


def tempo_event(tempo: int) -> bytes:
    return b"\x00\xff\x51\x03" + tempo.to_bytes(3, "big")


def huge_delta_file() -> bytes:
    """Deltas of 2^28 - 1 ticks (the largest a MIDI file can hold) between notes."""
    longest = varlen(0x0FFFFFFF)
    track = b"".join(longest + b"\x90\x3c\x64" + longest + b"\x80\x3c\x00" for _ in range(8))
    return smf([track + END])


def thousands_of_notes_file(count: int = 10_000) -> bytes:
    """`count` note-ons at one instant (every key on every melodic channel, over and over), all
    held for a beat."""
    ons, offs = bytearray(), bytearray()
    for n in range(count):
        channel, key = [c for c in range(16) if c != 9][n % 15], (n // 15) % 128
        ons += b"\x00" + bytes([0x90 | channel, key, 100])
        offs += (varlen(96) if n == 0 else b"\x00") + bytes([0x80 | channel, key, 0])
    return smf([bytes(ons + offs) + END])


def claimed_track_file(length: int = 0xFFFFFFFF) -> bytes:
    """A track whose chunk header claims 4 GB; the file ends after a few bytes of it."""
    return smf([C_MAJOR + END])[:14] + b"MTrk" + struct.pack(">L", length) + C_MAJOR + END


def huge_sysex_file(size: int = HUGE_LINE_BYTES) -> bytes:
    """A system-exclusive message of five megabytes before one chord."""
    sysex = b"\x00\xf0" + varlen(size + 1) + b"\x11" * size + b"\xf7"
    return smf([sysex + C_MAJOR + END])


def huge_meta_text_file(size: int = HUGE_LINE_BYTES) -> bytes:
    """A lyric meta event of five megabytes (one huge line of text inside a MIDI file)."""
    return smf([b"\x00\xff\x05" + varlen(size) + b"la" * (size // 2) + C_MAJOR + END])


# -- Guitar Pro version strings ----------------------------------------------------------------


def with_gp_version(data: bytes, version: bytes) -> bytes:
    """The file with another version string in its 31-byte header (length byte + text)."""
    version = version[:30]
    return bytes([len(version)]) + version.ljust(30, b" ") + data[31:]


# -- foreign formats ---------------------------------------------------------------------------


def zip_archive() -> bytes:
    """What Guitar Pro 6/7 and MuseScore write: a zip archive."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Content/score.gpif", "<GPIF><Score/></GPIF>")
    return buffer.getvalue()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17) + b"\x00\x00\x00\x00IEND\xaeB`\x82"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def foreign_files() -> dict[str, Callable[[], bytes]]:
    return {
        "midi": lambda: midi_seeds()[0].data,
        "gp5": lambda: gp_seeds()[0].data,
        "abc": lambda: abc_seeds()[0].data,
        "zip": zip_archive,
        "png": lambda: PNG,
        "pdf": lambda: PDF,
    }


# -- the cases -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """One hostile file: how to build it, under which name, and what the reader must do.

    expect: "read" (pieces come out), "error" (a CodecError), or "either" (one of the two: a
    truncated file may still hold whole pieces). `memory` marks files that claim far more
    data than they hold: the reader's peak memory is measured for them."""

    name: str
    filename: str
    build: Callable[[], bytes]
    expect: str = "either"
    reason: str = ""  # a fragment the CodecError's reason must hold
    memory: bool = False
    ext: str | None = None  # the extension it is read under, when not the reader's
    pending: dict[str, str] = field(default_factory=dict)  # reader → why it is not yet met


@dataclass(frozen=True)
class Reader:
    """A way files get read: `read(path)` returns pieces or raises CodecError."""

    name: str
    ext: str
    read: Callable[[Path], object]
    seeds: Callable[[], tuple[Seed, ...]]
    kind: str  # "midi", "abc", "text", "ascii-tab", "gp": which hostile files apply
    codec: str | None = None  # the codec whose encode_file this is (None: not a codec)


def _truncations(seeds: Callable[[], tuple[Seed, ...]]) -> list[Hostile]:
    """Each seed cut at every tenth of its length (the seed keeps its own extension)."""
    cases = []
    for index in range(len(seeds())):
        for tenth in range(1, 10):

            def build(index=index, tenth=tenth) -> bytes:
                data = seeds()[index].data
                return data[: len(data) * tenth // 10]

            seed = seeds()[index]
            cases.append(
                Hostile(f"{seed.name}-cut-at-{tenth}0%", f"cut{index}-{tenth}", build, ext=seed.ext)
            )
    return cases


def _random_bytes(size: int, seed: int, prefix: bytes = b"") -> Callable[[], bytes]:
    return lambda: prefix + random.Random(seed).randbytes(size)


def _reencoded(seeds, encoding: str) -> Callable[[], bytes]:
    """The first seed's text with non-ASCII words added, saved in another encoding."""

    def build() -> bytes:
        text = seeds()[0].data.decode("utf-8")
        lines = text.split("\n")
        if encoding == "shift_jis":
            lines.insert(1, "% 名前 さくら")
        else:
            lines.insert(1, "% Café crème, Ærø, naïve")
        return "\n".join(lines).encode(encoding)

    return build


def _ascii_seed_text(seeds) -> str:
    return seeds()[0].data.decode("utf-8")


def hostile_cases(reader: Reader) -> list[Hostile]:
    """Every hostile file for one reader; names are unique within it."""
    ext, seeds, kind = reader.ext, reader.seeds, reader.kind
    text_kind = kind in ("abc", "text")
    cases = [
        Hostile("empty", "empty", lambda: b"", "error"),
        Hostile("only-whitespace", "blank", lambda: b" \n\t\n\r\n", "error"),
        *_truncations(seeds),
        Hostile("random-16-bytes", "rand16", _random_bytes(16, 1), "error"),
        Hostile("random-1-KB", "rand1k", _random_bytes(1000, 2), "error"),
        Hostile("random-100-KB", "rand100k", _random_bytes(100_000, 3), "error"),
        Hostile("nul-bytes", "zeros", lambda: bytes(4096), "error"),
        Hostile(
            "odd-path-real-file",
            f"{ODD_FOLDER}/tune ñ ♪ (copy 2)",
            lambda: seeds()[0].data,
            "read",
        ),
        Hostile("upper-case-extension", "SHOUTING", lambda: seeds()[0].data, "read"),
    ]
    for other, build in foreign_files().items():
        if other == kind or (other == "abc" and text_kind) or (other == "gp5" and kind == "gp"):
            continue
        cases.append(Hostile(f"{other}-named-{ext}", f"foreign-{other}", build))
    if kind == "midi":
        cases += _midi_cases()
    if kind == "gp":
        cases += _gp_cases(seeds)
    if kind in ("abc", "text", "ascii-tab"):
        cases += _text_cases(seeds, kind)
    if kind == "abc":
        cases += _nested_abc_cases()
    return cases


def _midi_cases() -> list[Hostile]:
    chord = C_MAJOR + END
    return [
        Hostile("midi-magic-then-random", "magic", _random_bytes(5000, 4, b"MThd")),
        Hostile("header-only", "header", lambda: smf([])),
        Hostile("delta-times-near-2^28", "deltas", huge_delta_file, "error"),
        Hostile("tempo-0", "tempo0", lambda: smf([tempo_event(0) + chord])),
        Hostile("tempo-16777215", "tempomax", lambda: smf([tempo_event(0xFFFFFF) + chord])),
        Hostile("ticks-per-beat-1", "tpb1", lambda: smf([chord], division=1)),
        Hostile("ticks-per-beat-32767", "tpb32767", lambda: smf([chord], division=32767)),
        Hostile(
            "ticks-per-beat-0",
            "tpb0",
            lambda: smf([chord], division=0),
            "error",
            "0 ticks per beat",
        ),
        Hostile("smpte-division", "smpte", lambda: smf([chord], division=-0x18D8)),
        Hostile("file-type-7", "type7", lambda: smf([chord], file_type=7)),
        Hostile(
            "type-2-patterns", "type2", lambda: smf([chord, tempo_event(0) + chord], file_type=2)
        ),
        Hostile("10000-simultaneous-notes", "notes10k", thousands_of_notes_file),
        Hostile("track-claims-4-GB", "claim4g", claimed_track_file, memory=True),
        Hostile(
            "header-claims-65535-tracks",  # mido read it as no tracks: "no notes" (issue 18)
            "claim65535",
            lambda: smf([chord], claimed=65535),
            "error",
            "claiming 65,535 tracks",
        ),
        Hostile(
            "header-chunk-claims-4-GB",
            "claimhdr",
            lambda: b"MThd\xff\xff\xff\xff" + smf([chord])[8:],
            memory=True,
        ),
        Hostile("sysex-5-MB", "sysex", huge_sysex_file, memory=True),
        Hostile("lyric-5-MB", "lyric", huge_meta_text_file, memory=True),
        Hostile("notes-never-end", "noend", lambda: smf([b"\x00\x90\x3c\x64" + END])),
        Hostile("no-end-of-track", "noeot", lambda: smf([C_MAJOR])),
        Hostile("running-status-without-status", "runstat", lambda: smf([b"\x00\x3c\x64" + END])),
        Hostile("1000-tracks", "tracks1000", lambda: smf([chord] * 1000)),
    ]


UNREAD_VERSION = "of a version the tab codec cannot read"


def _gp_cases(seeds) -> list[Hostile]:
    def version(text: bytes) -> Callable[[], bytes]:
        return lambda: with_gp_version(seeds()[0].data, text)

    return [
        Hostile("gp-magic-then-random", "magic", _random_bytes(5000, 5, b"\x18FICHIER GUITAR PRO")),
        *(
            Hostile(
                f"guitar-pro-{v}",
                f"v{v}",
                version(b"FICHIER GUITAR PRO v" + v.encode()),
                "error",
                UNREAD_VERSION,
            )
            for v in ("1.00", "2.21", "6.00", "9.99")
        ),
        Hostile(
            "version-string-garbage",
            "vjunk",
            version(b"FICHIER GUITAR PRO \xff\xfe"),
            "error",
            UNREAD_VERSION,
        ),
        Hostile(
            "guitar-pro-6-bcfz",
            "gpx",
            lambda: b"BCFZ" + random.Random(6).randbytes(2000),
            "error",
            "Guitar Pro 6",
        ),
        Hostile("guitar-pro-7-zip", "gp7", zip_archive, "error", "zip archive"),
        Hostile("version-length-0", "vlen0", lambda: b"\x00" + seeds()[0].data[1:], "error"),
        Hostile(
            "string-claims-2-GB",
            "claim2g",
            lambda: seeds()[0].data[:31] + b"\xff\xff\xff\x7f\x10" + b"title",
            "error",
            memory=True,
        ),
        Hostile(
            "other-version-than-extension",
            "gp3data",
            lambda: next(s.data for s in seeds() if s.ext == ".gp3"),
            "read",
        ),
    ]


def _text_cases(seeds, kind: str) -> list[Hostile]:
    words = b"la " * (HUGE_LINE_BYTES // 3)
    cases = [
        Hostile("5-MB-single-line", "hugeline", lambda: words, memory=True),
        Hostile(
            "5-MB-line-after-real-file",
            "hugeafter",
            lambda: seeds()[0].data + b"\n" + words + b"\n",
            memory=True,
        ),
        Hostile("latin-1", "latin1", _reencoded(seeds, "latin-1")),
        Hostile("windows-1252", "cp1252", _reencoded(seeds, "cp1252")),
        Hostile("utf-16-with-bom", "utf16", _reencoded(seeds, "utf-16")),
        Hostile("utf-16-le-without-bom", "utf16le", _reencoded(seeds, "utf-16-le")),
        Hostile("shift-jis", "sjis", _reencoded(seeds, "shift_jis")),
        Hostile("utf-8-with-bom", "bom", lambda: b"\xef\xbb\xbf" + seeds()[0].data, "read"),
        Hostile(
            "windows-line-endings",
            "crlf",
            lambda: seeds()[0].data.replace(b"\n", b"\r\n"),
            "read",
        ),
        Hostile(
            "old-mac-line-endings", "cr", lambda: seeds()[0].data.replace(b"\n", b"\r"), "read"
        ),
        Hostile("a-million-blank-lines", "blanklines", lambda: b"\n" * 1_000_000, "error"),
    ]
    if kind == "abc":
        tune = b"X:1\nT:huge\nM:4/4\nL:1/8\nK:C\n"
        cases += [
            Hostile(
                "5-MB-line-of-notes",
                "hugenotes",
                lambda: tune + b"abcd efga|" * (HUGE_LINE_BYTES // 10) + b"\n",
                memory=True,
            ),
            Hostile(
                "300-tunes",
                "tunes300",
                lambda: b"".join(
                    b"X:%d\nM:4/4\nL:1/8\nK:D\n|:d2fd A2FA|d2fd e2ce:|\n\n" % n for n in range(300)
                ),
            ),
        ]
    elif kind == "ascii-tab":
        staff = "\n".join(f"{s}|" + "--0--2--|" * 8000 for s in "eBGDAE")
        cases.append(
            Hostile("staff-lines-of-72-KB", "hugestaff", lambda: staff.encode(), memory=True)
        )
        one = "e|-0-|\nB|---|\nG|---|\nD|---|\nA|---|\nE|---|"
        cases.append(
            Hostile("10000-staves", "staves", lambda: "\n\n".join([one] * 10_000).encode())
        )
    return cases


def _nested_abc_cases() -> list[Hostile]:
    head = b"X:1\nT:nested\nM:4/4\nL:1/8\nK:C\n"
    depth = 5000

    def body(text: bytes) -> Callable[[], bytes]:
        return lambda: head + text + b"\n"

    return [
        Hostile("5000-nested-chord-brackets", "brackets", body(b"[" * depth + b"C" + b"]" * depth)),
        Hostile("5000-unclosed-chord-brackets", "unclosed", body(b"[" * depth + b"CEG")),
        Hostile("5000-nested-slurs", "slurs", body(b"(" * depth + b"CDEF" + b")" * depth)),
        Hostile("5000-nested-grace-braces", "graces", body(b"{" * depth + b"g" + b"}" * depth)),
        Hostile("5001-quotes", "quotes", body(b'"' * (depth + 1) + b"C")),
        Hostile("5001-decoration-marks", "decorations", body(b"!" * (depth + 1) + b"C")),
        Hostile("5000-inline-fields", "inline", body(b"[K:C]" * depth + b"C")),
        Hostile("5000-nested-mixed", "mixed", body(b'[({"!' * 1000 + b"C" + b'!"})]' * 1000)),
        Hostile("5000-tuplets", "tuplets", body(b"(3" * depth + b"CDE")),
        Hostile("5000-broken-rhythm-marks", "broken", body(b"C" + b">" * depth + b"D")),
        Hostile("5000-repeat-endings", "endings", body(b"|:C" * depth + b":|" * depth)),
        Hostile("5000-continuation-lines", "continue", lambda: head + b"C\\\n" * depth + b"D\n"),
    ]


# -- the readers -----------------------------------------------------------------------------


def _encoder(codec: str) -> Callable[[Path], object]:
    return lambda path: get_codec(codec).encode_file(path)


def _render_and_plot_check(path: Path) -> list:
    """What `rnnmusic render` and `rnnmusic plot` read a MIDI file with."""
    return [read_midi(path), read_music(path)]


READERS = [
    Reader("text", ".txt", _encoder("text"), text_seeds, "text", "text"),
    Reader("midi-events", ".mid", _encoder("midi-events"), midi_seeds, "midi", "midi-events"),
    Reader("abc", ".abc", _encoder("abc"), abc_seeds, "abc", "abc"),
    Reader("tab-ascii", ".txt", _encoder("tab"), ascii_tab_seeds, "ascii-tab", "tab"),
    Reader("tab-gp", ".gp5", _encoder("tab"), gp_seeds, "gp", "tab"),
    Reader("tab-midi", ".mid", _encoder("tab"), midi_seeds, "midi", "tab"),
    Reader("tab-abc", ".abc", _encoder("tab"), abc_seeds, "abc", "tab"),
    Reader("midi-input", ".mid", _render_and_plot_check, midi_seeds, "midi"),
]


def write_case(reader: Reader, case: Hostile, folder: Path) -> Path:
    """The hostile file on disk, named with the reader's extension (upper case where asked)."""
    ext = case.ext or reader.ext
    ext = ext.upper() if case.name == "upper-case-extension" else ext
    path = folder / reader.name / f"{case.filename}{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(case.build())
    return deliberately_broken(path)  # input, not output: conftest's MIDI check leaves it
