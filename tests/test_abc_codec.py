"""The abc codec on files: golden normalisation, ABC as it is found (Windows, Latin-1, preambles,
continuations), bad input, decode repairs, transposition checked by music21."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from rnnmusic.codecs.abc import AbcCodec
from rnnmusic.codecs.abc.clients import music21_notes
from rnnmusic.codecs.abc.corpus import folk_abc_files
from rnnmusic.errors import CodecError, RnnMusicError

GOLDEN = Path(__file__).resolve().parent.parent / "codecs" / "abc" / "golden"


def golden_text(name: str) -> str:
    return (GOLDEN / name).read_text(encoding="utf-8")


def pieces_of(stdout_text: str) -> list[str]:
    return stdout_text.rstrip("\n").split("\n\n")


# -- golden files -------------------------------------------------------------------------------


def test_golden_session_normalises_to_the_expected_text():
    pieces = AbcCodec().encode_file(GOLDEN / "session.abc")
    assert pieces == pieces_of(golden_text("session.txt"))
    # titles, composer, notes, tempo, parts, lyrics, comments, annotations, spacers: all gone
    text = pieces[0]
    for gone in ("T:", "C:", "N:", "Q:", "P:", "w:", "%", "annotation", "y", "`", "Golden"):
        assert gone not in text
    assert sorted(pieces.skipped) == ["multi-voice tune (V:)", "no notes"]


def test_golden_transposed_to_c_and_written_back_out(tmp_path):
    assert AbcCodec(transpose="c").encode_file(GOLDEN / "session.abc") == pieces_of(
        golden_text("session.c.txt")
    )
    codec = AbcCodec()
    piece = codec.decode(codec.encode_file(GOLDEN / "session.abc")[0])
    codec.write(piece, tmp_path / "tune.abc")
    assert (tmp_path / "tune.abc").read_text(encoding="utf-8") == golden_text("session.out.abc")


def test_golden_repairs_of_a_broken_tune():
    piece = AbcCodec().decode(golden_text("repair.txt"))
    assert piece.text + "\n" == golden_text("repair.out.txt")
    joined = "\n".join(piece.repairs)
    for repair in (
        "dropped the header field 'T:",
        "added the missing L:1/8",
        "closed an unclosed chord",
        "dropped empty grace notes",
        "dropped a ')' that closes no slur",
        "dropped the unclosed quote",
        "dropped the unknown decoration !nonsense!",
        "changed the note length '/3' to '/'",
        "stray character",
    ):
        assert repair in joined, (repair, piece.repairs)
    assert AbcCodec().decode(piece.text).repairs == []  # the repaired text is canonical


def test_canonical_text_decodes_unchanged_with_no_repairs():
    codec = AbcCodec()
    for path in folk_abc_files()[::60]:  # a spread of the built-in collections
        for text in codec.encode_file(path)[:20]:
            piece = codec.decode(text)
            assert (piece.text, piece.repairs) == (text, []), path


def test_decoding_a_runaway_sample_cuts_it():
    piece = AbcCodec().decode("M:4/4\nL:1/8\nK:C\n" + "abcd efga|" * 20_000)
    assert "cut the text at 100,000 characters" in piece.repairs
    assert len(piece.text) <= 100_000


def test_missing_header_fields_are_filled_and_reported():
    piece = AbcCodec().decode("ABcd|efga|")
    assert piece.text == "M:4/4\nL:1/8\nK:C\nABcd|efga|"
    assert piece.repairs == [
        "added the missing M:4/4",
        "added the missing L:1/8",
        "added the missing K:C",
    ]
    bad = AbcCodec().decode("M:7/0\nL:1/3\nK:Q\nR:waltz\nabc|")
    assert bad.text.startswith("M:4/4\nL:1/8\nK:C\n")
    assert any("replaced K:Q with K:C" in r for r in bad.repairs)


# -- ABC as it is found ------------------------------------------------------------------------


def test_windows_line_endings_and_latin1_read_like_the_original(tmp_path):
    original = golden_text("session.abc").replace("written for", "écrit pour")
    expected = AbcCodec().encode_file(GOLDEN / "session.abc")
    windows = tmp_path / "windows.abc"
    windows.write_bytes(original.replace("\n", "\r\n").encode("latin-1"))
    assert AbcCodec().encode_file(windows) == expected
    utf8_bom = tmp_path / "bom.abc"
    utf8_bom.write_bytes(b"\xef\xbb\xbf" + original.encode("utf-8"))
    assert AbcCodec().encode_file(utf8_bom) == expected


def test_file_header_free_text_continuations_and_tunes_without_x(tmp_path):
    path = tmp_path / "loose.abc"
    path.write_text(
        "% a preamble: M: and L: here apply to every tune\nM:3/4\nL:1/4\n\n"
        "X:7\nT:First\nK:D\nABc|\\\n def|]\n\nText about the tune, not music: BAD CAFE.\n\n"
        "X:8\nT:Second\nL:1/8\nK:Ador\nabc def|]\n",
        encoding="utf-8",
    )
    assert AbcCodec().encode_file(path) == [
        "M:3/4\nL:1/4\nK:D\nABc| def|]",
        "M:3/4\nL:1/8\nK:Ador\nabc def|]",
    ]
    lone = tmp_path / "lone.abc"
    lone.write_text("T:No X field\nM:2/4\nK:G\nGABc|]\n", encoding="utf-8")
    assert AbcCodec().encode_file(lone) == ["M:2/4\nL:1/16\nK:G\nGABc|]"]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty"),
        (b"\n\n  \n", "is empty"),
        (bytes(range(256)) * 8, "is a binary file"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "is a binary file"),
        (b"Dear diary,\nno music here at all.\n", "holds no ABC tunes"),
        (b"X:1\nT:header only, no K: field\nabc|\n", "holds no ABC tunes"),
        (b"X:1\nT:voices\nK:C\nV:1\nC|\nV:2\nE|\n", "none the abc codec keeps (1 × multi-voice"),
        (b"X:1\nK:C\n" + b"abcd efga|" * 20_000, "1 × tune longer than 100,000 characters"),
    ],
)
def test_files_that_are_not_abc_are_clear_errors(tmp_path, content, reason):
    path = tmp_path / "bad.abc"
    path.write_bytes(content)
    with pytest.raises(CodecError) as info:
        AbcCodec().encode_file(path)
    assert reason in info.value.reason
    assert str(path) in str(info.value)


def test_wrong_extension_and_missing_file(tmp_path):
    with pytest.raises(CodecError, match="does not handle .txt"):
        AbcCodec().encode_file(tmp_path / "tune.txt")
    with pytest.raises(CodecError, match="cannot be read"):
        AbcCodec().encode_file(tmp_path / "missing.abc")
    with pytest.raises(RnnMusicError, match="cannot write .gp5"):
        AbcCodec().write(AbcCodec().decode("abc"), tmp_path / "out.gp5")


# -- transposition -----------------------------------------------------------------------------


def sounding(abc_text: str) -> list[tuple[tuple[int, ...], Fraction]]:
    return music21_notes(AbcCodec().decode(abc_text).abc())


@pytest.mark.parametrize("collection", ["oneills1850/0001-0050.abc", "airdsAirs/book2.abc"])
def test_all_keys_moves_every_note_by_the_same_interval(collection):
    path = next(p for p in folk_abc_files() if str(p).endswith(collection))
    written = AbcCodec().encode_file(path)[:4]
    every = AbcCodec(transpose="all").encode_file(path)
    codec = AbcCodec(transpose="all")
    for text in written:
        original = sounding(text)
        versions = [v for v in every if codec.split_key(v) == codec.split_key(text)]
        shifts = set()
        for version in versions:
            moved = sounding(version)
            assert [d for _, d in moved] == [d for _, d in original]  # rhythm untouched
            intervals = {
                b - a
                for (pa, _), (pb, _) in zip(original, moved, strict=True)
                for a, b in zip(pa, pb, strict=True)
            }
            assert len(intervals) == 1, version  # every pitch moves by the same interval
            shifts |= intervals
        assert shifts == set(range(-5, 7))


def test_transpose_c_reaches_the_plain_key_of_each_mode(tmp_path):
    path = tmp_path / "modes.abc"
    path.write_text(
        "X:1\nK:Bb\nBcd|\n\nX:2\nK:F#m\nFGA|\n\nX:3\nK:E dorian\nEFG|\n\nX:4\nK:Amix\nABc|\n"
        "\nX:5\nK:none\nCDE|\n",
        encoding="utf-8",
    )
    keys = [p.split("\n")[2] for p in AbcCodec(transpose="c").encode_file(path)]
    assert keys == ["K:C", "K:Am", "K:Ddor", "K:Gmix", "K:none"]
    bodies = [p.split("\n")[3] for p in AbcCodec(transpose="c").encode_file(path)]
    assert bodies == ["cde|", "ABc|", "DEF|", "GAB|", "CDE|"]


def test_invalid_transpose_option_is_a_clear_error():
    with pytest.raises(RnnMusicError, match="must be one of none, all, c"):
        AbcCodec(transpose="D")


def test_split_key_groups_transcriptions_of_one_melody():
    codec = AbcCodec()
    tune = 'R:jig\nM:6/8\nL:1/8\nK:G\n|:GAB !trill!c2d|e>dB "D"A3:|'
    other_key_and_layout = "M:6/8\nL:1/8\nK:A\nABc ~d2e | f>ec B3 ||"
    another_tune = "M:6/8\nL:1/8\nK:G\n|:GAB c2d|e>dB G3:|"
    assert codec.split_key(tune) == codec.split_key(other_key_and_layout)
    assert codec.split_key(tune) != codec.split_key(another_tune)
    versions = AbcCodec(transpose="all").versions(AbcCodec().decode(tune).tune)
    assert len(versions) == 12 and len({codec.split_key(v.text) for v in versions}) == 1


def test_eval_statistics_say_whether_the_tools_read_a_tune_and_its_bars_fill_the_meter():
    codec = AbcCodec()
    jig = codec.piece_stats(codec.decode("M:6/8\nL:1/8\nK:D\nA|dfa afd|BAG FED|dfa afd|e3 e2:|"))
    assert jig["music21_parses"] == 1.0
    assert jig["bars_as_meter_share"] == 1.0 and jig["all_bars_as_meter"] == 1.0
    assert jig.get("abc2midi_clean", 1.0) == 1.0
    short = codec.piece_stats(codec.decode("M:4/4\nL:1/8\nK:G\nGABc d2e2|f4 g2|abcd e4|g8|"))
    assert short["bars_as_meter_share"] == 0.5 and short["all_bars_as_meter"] == 0.0
    free = codec.piece_stats(codec.decode("M:none\nL:1/8\nK:G\nGAB|cde|fga|"))
    assert "bars_as_meter_share" not in free  # no meter, nothing to check
