"""`generate --strict` for tab: an untrained model writes only tabs that decode with zero
repairs and open as Guitar Pro, ASCII tab and MIDI files."""

from __future__ import annotations

import re
from fractions import Fraction

import guitarpro
import mido
import pytest
import torch
from untrained import strict_samples, untrained_model

from rnnmusic.codecs import get_codec
from rnnmusic.codecs.tab.encoder import format_tab
from rnnmusic.codecs.tab.gp_writer import for_guitar_pro
from rnnmusic.codecs.tab.strict import TabConstraint
from rnnmusic.errors import RnnMusicError
from rnnmusic.sample import SampleConfig, sample_texts

# every character the grammar knows (cells, marks, header), so the sampler can try every mistake
VOCAB = sorted(set("-=x0123456789abcdefghijklmno.:|\nhbr/~m*gqt #ABCDEFG"))
PRIMES = {  # a prime fixes the grid, time signature and tuning (4, 6 and 7 strings)
    "any header": None,
    "g12 drop D": "g12 m3/4 tD2A2D3G3B3E4\n",
    "g16 bass": "g16 q90 tE1A1D2G2\n",
    "g48 seven strings": "g48 m7/8 q140 tB1E2A2D3G3B3E4\n",
}
CODEC = get_codec("tab")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _repaired(texts: list[str]) -> list[tuple[str, list[str]]]:
    return [(text[:120], piece.repairs) for text in texts if (piece := CODEC.decode(text)).repairs]


@pytest.mark.slow
@pytest.mark.parametrize("prime", PRIMES.values(), ids=PRIMES.keys())
def test_thousands_of_strict_samples_decode_with_zero_repairs(prime):
    model = untrained_model(VOCAB)
    texts = []
    for seed, num, length, temperature in (
        (0, 400, 60, 1.0),
        (1, 400, 400, 2.0),
        (2, 100, 1200, 0.8),
    ):
        texts += strict_samples(
            CODEC, VOCAB, model, num, length, seed, prime=prime, temperature=temperature
        )
    assert _repaired(texts) == []
    pieces = [CODEC.decode(text).tab for text in texts]
    if prime is not None:
        assert all(text.startswith(prime) for text in texts)
        assert {format_tab(tab).split("\n")[0] for tab in pieces} == {prime.strip()}
    # real tabs, not empty bars: notes, held notes, techniques and bar lines all occur
    assert sum(bool(tab.notes()) for tab in pieces) > 0.9 * len(texts)
    assert sum("=" in text.partition("\n")[2] for text in texts) > len(texts) // 2
    assert sum(any(n.mark == "h" for n in tab.notes()) for tab in pieces) > len(texts) // 4
    assert sum(len(tab.bars) > 1 for tab in pieces) > len(texts) // 10


def test_a_few_hundred_strict_samples_decode_with_zero_repairs():
    model = untrained_model(VOCAB, 1)
    texts = strict_samples(CODEC, VOCAB, model, 200, 300, seed=4, temperature=1.5)
    texts += strict_samples(
        CODEC, VOCAB, model, 100, 150, seed=5, prime=PRIMES["g12 drop D"], top_k=12
    )
    assert _repaired(texts) == []


def test_samples_end_with_a_whole_piece_however_short_the_length():
    model = untrained_model(VOCAB, 2)
    shortest = CODEC.constraint(VOCAB).shortest_piece()
    assert shortest == len("g8\n------.|\n\n")
    texts = strict_samples(CODEC, VOCAB, model, 100, shortest, seed=0)
    assert all(re.fullmatch(r"g8\n[-x0-9a-oA-L]{6}\.\|", text) for text in texts), texts[:3]
    for length in (shortest + 1, 20, 31, 45):
        texts = strict_samples(CODEC, VOCAB, model, 100, length, seed=length)
        assert _repaired(texts) == [], length


@pytest.mark.parametrize(
    ("prime", "fewest"),
    [
        (PRIMES["g12 drop D"], 3 * len("------.") + 3),  # a bar of 3/8 at least, "|\n\n"
        (PRIMES["g48 seven strings"], 3 * len("-------.") + 3),  # 1/16 at least
        (PRIMES["g12 drop D"] + "------." * 4 + "-", 5 + 1 + 7 + 3),  # 4 groups: on to 6
        (PRIMES["g16 bass"] + "----.|\n0123.", 3),  # a bar may end after any group
    ],
)
def test_after_a_prime_the_piece_ends_in_the_fewest_characters_it_can(prime, fewest):
    model = untrained_model(VOCAB, 2)
    length = max(fewest, CODEC.constraint(VOCAB).shortest_piece())
    texts = strict_samples(CODEC, VOCAB, model, 100, length, seed=1, prime=prime)
    assert _repaired(texts) == []
    if length == fewest:  # exactly the characters left: the shortest ending, nothing else
        shapes = {re.sub("[-=x0-9a-oA-L]", "c", text[len(prime) :]) for text in texts}
        assert len(shapes) == 1 and ":" not in shapes.pop()
    if fewest - 1 >= CODEC.constraint(VOCAB).shortest_piece():
        with pytest.raises(RnnMusicError, match=f"cannot end within --length {fewest - 1}"):
            strict_samples(CODEC, VOCAB, model, 2, fewest - 1, seed=1, prime=prime)


def test_without_strict_the_same_model_needs_repairs():
    config = SampleConfig(num=200, length=300, seed=0)
    texts = sample_texts(untrained_model(VOCAB), VOCAB, CODEC.separator, config, "cpu")
    assert len(_repaired(texts)) > 190


def test_prime_and_length_are_checked_against_the_grammar():
    model = untrained_model(VOCAB)
    good = "g16 m3/4\n02----.=3----:-h----."
    with pytest.raises(RnnMusicError, match="character 17"):  # '=' where nothing sounds
        strict_samples(CODEC, VOCAB, model, 2, 300, seed=1, prime="g16 m3/4\n------.=-----.")
    with pytest.raises(RnnMusicError, match="character 24"):  # 'h' without an earlier note
        strict_samples(CODEC, VOCAB, model, 2, 300, seed=1, prime="g16 m3/4\n------.2-----:h")
    with pytest.raises(RnnMusicError, match="character 3"):  # no such grid
        strict_samples(CODEC, VOCAB, model, 2, 300, seed=1, prime="g18\n")
    with pytest.raises(
        RnnMusicError, match="character 8"
    ):  # a bar of 5/16 is no whole number of g8 steps
        strict_samples(CODEC, VOCAB, model, 2, 300, seed=1, prime="g8 m5/16\n")
    with pytest.raises(RnnMusicError, match="too short"):
        strict_samples(CODEC, VOCAB, model, 2, 5, seed=1)
    # the bar needs three groups on a triplet grid: 19 more characters
    with pytest.raises(RnnMusicError, match="cannot end within --length 14"):
        strict_samples(CODEC, VOCAB, model, 2, 14, seed=1, prime="g12\n-----")
    texts = strict_samples(CODEC, VOCAB, model, 50, 200, seed=1, prime=good)
    assert all(text.startswith(good) for text in texts)
    assert _repaired(texts) == []


def test_a_vocabulary_that_cannot_spell_a_piece_is_a_clear_error():
    vocab = [ch for ch in VOCAB if ch != "|"]
    with pytest.raises(RnnMusicError, match="cannot spell a whole tab piece"):
        TabConstraint(vocab).reset(1, torch.device("cpu"))


def _onsets(midi: mido.MidiFile, grid: int) -> list[tuple[int, int]]:
    step = 4 * midi.ticks_per_beat // grid
    onsets, now = [], 0
    for message in midi.tracks[0]:
        now += message.time
        if message.type == "note_on" and message.velocity:
            onsets.append((now // step, message.note))
    return sorted(onsets)


@pytest.mark.parametrize("prime", PRIMES.values(), ids=PRIMES.keys())
def test_strict_samples_are_written_as_files_that_read_back(prime, tmp_path):
    for number, text in enumerate(
        strict_samples(CODEC, VOCAB, untrained_model(VOCAB, 3), 4, 600, seed=7, prime=prime)
    ):
        piece = CODEC.decode(text)
        tab = piece.tab
        gp5, txt, mid = (tmp_path / f"s{number}{ext}" for ext in (".gp5", ".txt", ".mid"))
        for path in (gp5, txt, mid):
            CODEC.write(piece, path)
        same_grid = get_codec("tab", grid=tab.grid)
        (back,) = same_grid.encode_file(gp5)  # Guitar Pro keeps every group and mark …
        # … where its rhythms can spell the step (on g120-g480 not every step), and it has no
        # dead note without a fret: `x` and `0` marked `x` are one note to it
        spelt, _ = for_guitar_pro(tab)
        assert _dead_as_x(back) == _dead_as_x(format_tab(spelt))
        assert [s.value for s in guitarpro.parse(str(gp5)).tracks[0].strings][::-1] == list(
            tab.tuning
        )
        strikes = sorted((Fraction(n.start, tab.grid), n.string, _fret(n)) for n in tab.notes())
        from_txt = CODEC.decode(CODEC.encode_file(txt)[0]).tab  # ASCII keeps every strike
        read = from_txt.notes()
        assert sorted((Fraction(n.start, from_txt.grid), n.string, _fret(n)) for n in read) == (
            strikes
        )
        played = [(n.start, spelt.played_pitch(n)) for n in spelt.notes()]
        assert _onsets(mido.MidiFile(mid), tab.grid) == sorted(played)


def _fret(note) -> int | None:
    """ASCII tabs write every dead note `x`, without the fret the hand rests on."""
    return None if note.dead else note.fret


def _dead_as_x(text: str) -> list[list[str]]:
    """Each group's cells and marks with a dead note at fret 0 spelt `x` without a mark."""
    bars = []
    for bar in text.split("\n")[1:]:
        groups = []
        for group in bar.rstrip("|").split(".")[:-1]:
            cells, _, marks = group.partition(":")
            marks = marks or "-" * len(cells)
            pairs = [
                ("x", "-") if (c, m) == ("0", "x") else (c, m)
                for c, m in zip(cells, marks, strict=True)
            ]
            cells, marks = "".join(c for c, _ in pairs), "".join(m for _, m in pairs)
            groups.append(cells + (":" + marks if marks.strip("-") else ""))
        bars.append(groups)
    return bars


def test_with_the_shipped_tabs_profile_samples_hold_their_notes_and_spread_like_the_tabs():
    """A cap at the 95th percentile let every sample span 21 semitones (training median: 14);
    each sample now draws its span from the training tabs'. An untrained model strikes strings
    rarely; a piece still holds 16 notes before it ends."""
    from rnnmusic.checkpoint import load_checkpoint
    from rnnmusic.models import PRETRAINED_DIR

    profile = load_checkpoint(PRETRAINED_DIR / "tabs.safetensors").profile
    constraint = CODEC.constraint(VOCAB, profile)
    config = SampleConfig(num=60, length=1500, seed=2)
    texts = sample_texts(untrained_model(VOCAB), VOCAB, CODEC.separator, config, "cpu", constraint)
    assert _repaired(texts) == []
    pieces = [CODEC.decode(t) for t in texts]
    assert min(CODEC.count_notes(p) for p in pieces) >= 16
    spans = sorted(CODEC.piece_facts(t).numbers["pitch_range"] for t in texts)
    assert spans[-1] <= profile.quantile("pitch_range", 0.95)
    assert spans[len(spans) // 2] <= 1.25 * profile.quantile("pitch_range", 0.5)


def test_the_shipped_tabs_model_writes_pitched_notes_not_clicks():
    """Forced to strike owed notes on the top string, below a low melody, the shipped model
    struck dead notes (x): 47 of 300 samples ended with fewer than 16 pitched notes, some with
    3. The owed notes are now frets inside the piece's span."""
    from rnnmusic.checkpoint import load_checkpoint
    from rnnmusic.models import shipped_models
    from rnnmusic.sample import generate

    ckpt = load_checkpoint(shipped_models()["tabs"].path)
    config = SampleConfig(num=100, length=ckpt.sample_length(None), seed=1, strict=True)
    texts = generate(ckpt, config, device="cpu")
    pieces = [CODEC.decode(text) for text in texts]
    assert all(piece.clean for piece in pieces)
    pitched = sorted(CODEC.count_notes(piece) for piece in pieces)
    assert pitched[0] >= 16, pitched[:10]
    dead = sum(text.partition("\n")[2].count("x") for text in texts)
    assert dead <= 10, f"{dead} dead notes in 100 samples"
