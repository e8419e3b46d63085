"""decode is total: any string becomes a tune that music21 reads and MIDI can be written from, and
the repaired text is canonical (decoding it again changes nothing)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from midi_checks import unended_notes

from rnnmusic.codecs.abc import AbcCodec
from rnnmusic.codecs.abc.clients import music21_notes

CODEC = AbcCodec()

# Characters of ABC bodies and headers, weighted towards syntax that nests and must be repaired.
ABC_ALPHABET = "ABCDEFGabcdefgzxZ,'^_=/23468|:[]{}()-<>!.~HTu\"\n MLK:R#bmy+%&\\$"
HEADER_LINES = st.sampled_from(
    ["M:6/8\n", "M:C|\n", "M:none\n", "L:1/16\n", "K:Ador\n", "K:Bb\n", "R:reel\n", "X:1\n", ""]
)
abc_like = st.builds(
    lambda header, body: header + body,
    st.lists(HEADER_LINES, max_size=4).map("".join),
    st.text(alphabet=ABC_ALPHABET, max_size=160),
)
anything = st.text(max_size=120)


def check_total(text: str) -> None:
    piece = CODEC.decode(text)
    again = CODEC.decode(piece.text)
    assert again.text == piece.text and again.repairs == [], (text, piece.text, again.repairs)
    assert "\n\n" not in piece.text  # the piece separator never appears inside a piece
    notes = music21_notes(piece.abc())  # raises if music21 cannot read it
    assert piece.tune.notes == 0 or notes, piece.text  # written notes are read as notes


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(abc_like)
@example("L<H")  # the dropped '<' left "L!fermata!", which a second decode reordered
@example("L(H")
def test_decode_of_abc_like_text_is_total_and_canonical(text):
    check_total(text)


@settings(max_examples=60, deadline=None)
@given(anything)
def test_decode_of_any_unicode_is_total_and_canonical(text):
    check_total(text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(abc_like)
def test_any_decoded_text_writes_abc_and_midi(text):
    piece = CODEC.decode(text)
    with tempfile.TemporaryDirectory() as tmp:
        CODEC.write(piece, Path(tmp) / "x.abc")
        CODEC.write(piece, Path(tmp) / "x.mid")
        assert (Path(tmp) / "x.abc").read_text(encoding="utf-8").startswith("X:1\nT:")
        assert (Path(tmp) / "x.mid").read_bytes()[:4] == b"MThd"
        assert unended_notes(Path(tmp) / "x.mid") == []  # every note it starts stops
