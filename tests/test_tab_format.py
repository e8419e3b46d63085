"""The tab codec's text: golden ASCII tabs, the grammar, and decode's repairs (decode is total)."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import guitarpro
import mido
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnmusic.codecs import get_codec
from rnnmusic.codecs.tab.alphabet import FRET_CHARS
from rnnmusic.codecs.tab.decoder import parse_text
from rnnmusic.codecs.tab.encoder import format_tab
from rnnmusic.codecs.tab.gp_writer import for_guitar_pro
from rnnmusic.codecs.tab.model import TabNote

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "codecs" / "tab" / "golden"
GROUP = re.compile(r"^[-=x0-9a-o]{N}(?::[-hbr/~m*]{N})?$")


@pytest.fixture(scope="module")
def codec():
    return get_codec("tab")


def strikes(tab) -> list[tuple[Fraction, int, int | None]]:
    """What a player strikes: (onset in whole notes, string, fret); dead notes have fret None
    (ASCII tabs write them `x`, without the fret the hand rests on)."""
    return sorted(
        (Fraction(n.start, tab.grid), n.string, None if n.dead else n.fret) for n in tab.notes()
    )


def test_golden_ascii_tab_parses_to_the_expected_groups(codec):
    pieces = codec.encode_file(GOLDEN / "quirks.txt")
    expected = (GOLDEN / "quirks.expected").read_text(encoding="utf-8").strip("\n").split("\n\n")
    assert pieces == expected
    guitar, bass = (codec.decode(p) for p in pieces)
    assert guitar.clean and bass.clean
    # the drop-D tuning line, the tempo and time lines, and the bass staff's own labels
    assert guitar.tab.tuning == (38, 45, 50, 55, 59, 64)
    assert (guitar.tab.tempo, guitar.tab.time_signature) == (96, (4, 4))
    assert bass.tab.tuning == (28, 33, 38, 43)
    # chord names, lyrics and section titles between staves add no notes: four staves, four
    # bars of 4/4 (the repeat marks are bar lines, the "x2" after a staff is ignored)
    assert [len(bar) for bar in guitar.tab.bars] == [16, 16, 16, 16, 16, 16]


def test_golden_quirks_are_read_as_a_guitarist_means_them(codec):
    guitar = codec.decode(codec.encode_file(GOLDEN / "quirks.txt")[0]).tab
    notes = {(n.start, n.string): n for n in guitar.notes()}
    bar = 16
    # PM---- over the first three power chords, not the fourth
    assert [notes[(step, 0)].mark for step in (0, 4, 8, 12)] == ["m", "m", "m", "-"]
    # 0h2p0 on the G string: both arrivals are legato, the first note is not
    g_string = [notes[(bar + step, 3)] for step in (4, 6, 8)]
    assert [(n.fret, n.mark) for n in g_string] == [(0, "-"), (2, "h"), (0, "h")]
    # 5/7\5 on the D string: slides into the second and third notes
    d_string = [notes[(bar + step, 2)] for step in (10, 12, 14)]
    assert [(n.fret, n.mark) for n in d_string] == [(5, "-"), (7, "/"), (5, "/")]
    # two-digit frets, a dead note and a bend-and-release whose target fret is not a note;
    # the verse's first bar holds notes one column apart: read as even sixteenths
    verse = {(n.start - 2 * bar, n.string, n.fret, n.mark) for n in guitar.notes()}
    assert {(0, 2, 0, "-"), (1, 3, 2, "-"), (2, 4, 3, "-")} <= verse
    assert {(7, 5, 12, "-"), (8, 4, 13, "-"), (7, 3, None, "-"), (16, 4, 8, "r")} <= verse
    assert not any(n.fret == 10 for n in guitar.notes())
    # the unlabelled chorus staff with a short G line: both chords keep all six strings
    chorus = [n for n in guitar.notes() if 4 * bar <= n.start < 5 * bar]
    assert sorted({n.start - 4 * bar for n in chorus}) == [0, 8]
    assert [n.fret for n in chorus if n.start == 4 * bar + 8] == [None, 2, 0, 0, 3, 3]
    harmonic = [n for n in guitar.notes() if n.start >= 5 * bar]
    assert [(n.fret, n.mark) for n in harmonic] == [(12, "*")]


def test_ascii_writer_layout_is_pinned_and_reads_back_exactly(codec, tmp_path):
    text = (GOLDEN / "quirks.expected").read_text(encoding="utf-8").split("\n\n")[0]
    out = tmp_path / "guitar.txt"
    codec.write(codec.decode(text), out)
    written = out.read_text(encoding="utf-8")
    assert written == (GOLDEN / "quirks.written.txt").read_text(encoding="utf-8")
    staff_lines = [line for line in written.splitlines() if "|" in line]
    assert max(len(line) for line in staff_lines) <= 80
    assert codec.encode_file(out) == [text]


def test_own_text_in_a_txt_file_is_read_as_such(codec, tmp_path):
    expected = (GOLDEN / "quirks.expected").read_text(encoding="utf-8")
    path = tmp_path / "sample.txt"
    path.write_text(expected, encoding="utf-8")
    assert codec.encode_file(path) == expected.strip("\n").split("\n\n")


def test_every_group_has_one_character_per_string(codec):
    for piece in (GOLDEN / "quirks.expected").read_text(encoding="utf-8").strip().split("\n\n"):
        header, *bars = piece.split("\n")
        strings = codec.decode(piece).tab.strings
        group = re.compile(GROUP.pattern.replace("N", str(strings)))
        for bar in bars:
            assert bar.endswith("|")
            groups = bar[:-1].split(".")
            assert groups[-1] == ""
            assert all(group.match(g) for g in groups[:-1]), bar


@pytest.mark.parametrize(
    ("text", "repair", "first_group"),
    [
        ("g16\n0123.|", "padded to 6", "0123--"),
        ("g16\n01234567.|", "cut to 6", "012345"),
        ("g16\n0?1Z2345.|", "unknown string character dropped", "012345"),
        ("g16\n=-----.|", "sustain '=' without a sounding note", "------"),
        ("g16\n3-----:h-----.|", "without an earlier note", "3-----"),
        ("g16\n------:b-----.|", "mark without a struck note", "------"),
        ("0-----.|", "missing header", "0-----"),
        ("g16\n0-----.------", "not closed by '.'", "0-----"),
        ("g16 q9999 zz\n0-----.|", "tempo 9999 dropped", "0-----"),
        ("g16 tE2A2\n0-----.|", "tuning E2A2 unsupported", "0-----"),
    ],
)
def test_decode_repairs_and_reports(codec, text, repair, first_group):
    piece = codec.decode(text)
    assert any(repair in r for r in piece.repairs), piece.repairs
    assert piece.tab.bars[0][0].cells == first_group


def test_decode_of_nothing_is_one_silent_bar(codec):
    piece = codec.decode("")
    assert piece.repairs and piece.tab.notes() == []
    assert len(piece.tab.bars) == 1


def test_overlong_bars_are_split_and_odd_bars_padded(codec):
    piece = codec.decode("g16 m4/4\n" + "0-----." * 40 + "|\n" + "0-----." * 3 + "|")
    assert [len(bar) for bar in piece.tab.bars] == [16, 16, 8, 3]
    triplets = codec.decode("g12\n" + "0-----." * 5 + "|")
    assert [len(bar) for bar in triplets.tab.bars] == [6]  # 5/12 of a whole: no signature
    assert any("padded" in r for r in triplets.repairs)


def test_clean_text_survives_format_and_parse(codec):
    text = "g16 m6/8 q140 tD2A2D3G3B3E4\n0-5---.=-7---:--h---.|\nx-----:m-----.------.|"
    tab, repairs = parse_text(text)
    assert repairs == []
    assert format_tab(tab) == text
    assert tab.notes() == [
        TabNote(0, 0, 0, 2),
        TabNote(0, 2, 5, 1),
        TabNote(1, 2, 7, 1, "h"),
        TabNote(2, 0, None, 1, "m"),
    ]


# -- decode is total, and what it decodes can be written and read back ---------------------

GRAMMAR_CHARS = "-=x0123456789abcdefghijklmnoABCDEFGHIJKL.:|\nhbr/~m*gqt "
near_grammar = st.lists(
    st.one_of(
        st.sampled_from(["------.", "0-----.", "-3=2--.", "|\n", "5h7---:-h----.", "x02220."]),
        st.text(alphabet=GRAMMAR_CHARS, max_size=12),
        st.text(max_size=4),
    ),
    max_size=30,
).map("".join)
headers = st.sampled_from(
    ["", "g16\n", "g12 m3/4 q90\n", "g16 tE1A1D2G2\n", "g48 m5/8\n", "g60 m3/4\n", "g32\n"]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(st.text(max_size=200), st.builds(lambda h, b: h + b, headers, near_grammar)))
def test_decode_never_raises_and_writes_files_that_read_back(codec, tmp_path, text):
    piece = codec.decode(text)
    tab = piece.tab
    assert all(len(c.cells) == tab.strings for c in tab.columns())
    clean = codec.decode(format_tab(tab))
    assert clean.repairs == [], clean.repairs

    txt, gp5, mid = tmp_path / "s.txt", tmp_path / "s.gp5", tmp_path / "s.mid"
    for path in (txt, gp5, mid):
        codec.write(piece, path)

    same_grid = get_codec("tab", grid=tab.grid)
    from_gp5 = same_grid.decode(same_grid.encode_file(gp5)[0]).tab if tab.notes() else None
    spelt, _ = for_guitar_pro(tab)  # the steps Guitar Pro can spell (on g60: not 1/60)
    if from_gp5 is not None:  # Guitar Pro keeps everything but an unknown tempo
        assert format_tab(from_gp5).split("\n")[1:] == format_tab(spelt).split("\n")[1:]
        assert guitarpro.parse(str(gp5)).tracks[0].strings[-1].value == tab.tuning[0]

    if tab.notes():  # ASCII keeps every strike (durations are not drawn) …
        from_txt = codec.decode(codec.encode_file(txt)[0]).tab
        assert strikes(from_txt) == strikes(tab)
        # … and a reader can tell every fret from its neighbours: no run of three digits
        staff = [line for line in txt.read_text().splitlines() if line.endswith("|")]
        assert not any(re.search(r"\d{3}", line) for line in staff)

    midi = mido.MidiFile(mid)  # the sounding pitches, at the grid's onsets
    ticks = 4 * midi.ticks_per_beat // tab.grid
    onsets, now = [], 0
    for message in midi.tracks[0]:
        now += message.time
        if message.type == "note_on" and message.velocity:
            onsets.append((now // ticks, message.note))
    # dead notes sound as Guitar Pro players sound them: short, at their fret or the open string
    expected = [(n.start, spelt.played_pitch(n)) for n in spelt.notes()]
    assert sorted(onsets) == sorted(expected)


def test_fret_letters_cover_frets_ten_to_thirty_six():
    assert FRET_CHARS[10] == "a" and FRET_CHARS[24] == "o"
    assert FRET_CHARS[25] == "A" and FRET_CHARS[36] == "L"


def test_two_digit_frets_get_columns_of_their_own(codec, tmp_path):
    """12, 22 and 5 as sixteenths on the high E string: never `12225`."""
    text = "g16 m1/4\n-----c.-----m.-----5.-----I.|"
    out = tmp_path / "frets.txt"
    codec.write(codec.decode(text), out)
    written = out.read_text()
    top = next(line for line in written.splitlines() if line.startswith("e|"))
    assert top == "e|-12-22-5-33-|"
    assert "one more where a fret has two digits" in written
    assert codec.encode_file(out) == [text]


def test_evenly_spaced_notes_read_as_even_rhythm(codec, tmp_path):
    """An arpeggio in every other column of an 18-column bar: eighth notes, not the uneven
    steps that spreading nine slots over sixteen sixteenths gives."""
    path = tmp_path / "arpeggio.txt"
    path.write_text(
        "e|-----------0-----|\n"
        "B|---------1---1---|\n"
        "G|-------2-------2-|\n"
        "D|-----2-----------|\n"
        "A|---0-------------|\n"
        "E|-0---------------|\n"
    )
    tab = codec.decode(codec.encode_file(path)[0]).tab
    assert [n.start for n in tab.notes()] == [0, 2, 4, 6, 8, 10, 12, 14]


def test_staff_without_bar_lines_counts_its_common_gap_as_an_eighth(codec, tmp_path):
    path = tmp_path / "arpeggio.tab"
    path.write_text(
        "Am arpeggio, no bar lines\n"
        "e-----------0-------\n"
        "B---------1---1-----\n"
        "G-------2-------2---\n"
        "D-----2-----------2-\n"
        "A---0---------------\n"
        "E-------------------\n"
    )
    (text,) = codec.encode_file(path)
    tab = codec.decode(text).tab
    assert [(n.start, n.string, n.fret) for n in tab.notes()] == [
        (0, 1, 0), (2, 2, 2), (4, 3, 2), (6, 4, 1), (8, 5, 0), (10, 4, 1), (12, 3, 2), (14, 2, 2)
    ]  # fmt: skip
    assert [len(bar) for bar in tab.bars] == [16]


ascii_noise = st.text(alphabet="-----|||0123456789hpbr/\\~xX()<>*PM eEBGDA:\n", max_size=400)


@settings(max_examples=150, deadline=None)
@given(text=st.one_of(ascii_noise, st.text(max_size=200)))
def test_ascii_reader_is_total_and_its_tabs_encode_cleanly(text):
    from rnnmusic.codecs.tab.ascii_reader import read_ascii
    from rnnmusic.codecs.tab.codec import encode_tab

    codec = get_codec("tab")
    for tab in read_ascii(text).tabs:
        assert codec.decode(encode_tab(tab)).clean
