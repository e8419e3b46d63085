"""`generate --strict` for abc: an untrained model writes only tunes that decode unchanged with
zero repairs and that music21 and abc2midi read; the grammar accepts real tunes as they are."""

from __future__ import annotations

import re

import pytest
from untrained import strict_samples, untrained_model

from rnnmusic.codecs import get_codec
from rnnmusic.codecs.abc.clients import abc2midi_errors, music21_notes
from rnnmusic.codecs.abc.corpus import folk_abc_files
from rnnmusic.codecs.abc.strict_grammar import AbcGrammar
from rnnmusic.constraints import TableConstraint
from rnnmusic.errors import RnnMusicError
from rnnmusic.profile import profile_of
from rnnmusic.sample import SampleConfig, sample_texts

CODEC = get_codec("abc")
# the characters of the built-in corpus, and a few it never uses, so the sampler meets both
VOCAB = sorted(
    set("\n !\"#'(),-./0123456789:<=>ABCDEFGHKLMRSTZ[]^_abcdefghijklmnoprstuvwxyz{|}~+%")
)
PRIMES = {
    "any header": None,
    "a jig": "R:jig\nM:6/8\nL:1/8\nK:D\n",
    "mid-tune": "M:C|\nL:1/8\nK:Ador\n|:eA (3AAA eAcA|",
}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _not_clean(texts: list[str]) -> list[tuple[str, list[str]]]:
    """Samples that decode with repairs or come back changed."""
    out = []
    for text in texts:
        piece = CODEC.decode(text)
        if piece.repairs or piece.text != text:
            out.append((text[-120:], piece.repairs))
    return out


@pytest.mark.slow
@pytest.mark.parametrize("prime", PRIMES.values(), ids=PRIMES.keys())
def test_thousands_of_strict_samples_decode_unchanged_with_zero_repairs(prime):
    model = untrained_model(VOCAB)
    texts = []
    for seed, num, length, temperature in (
        (0, 500, 80, 1.0),
        (1, 500, 400, 2.0),
        (2, 150, 1500, 0.8),
    ):
        texts += strict_samples(
            CODEC, VOCAB, model, num, length, seed, prime=prime, temperature=temperature
        )
    assert _not_clean(texts) == []
    if prime is not None:
        assert all(text.startswith(prime) for text in texts)
    tunes = [CODEC.decode(text).tune for text in texts]
    # tunes, not a note apiece: bars, chords, slurs, broken rhythms and ornaments all occur
    assert sum(tune.notes > 3 for tune in tunes) > len(texts) // 2
    body = ["\n".join(text.split("\n")[3:]) for text in texts]
    for mark in ("|", "[", "(", ">", '"', "!", "{"):
        assert sum(mark in b for b in body) > len(texts) // 20, mark


def test_a_few_hundred_strict_samples_decode_unchanged_with_zero_repairs():
    model = untrained_model(VOCAB, 1)
    texts = strict_samples(CODEC, VOCAB, model, 200, 300, seed=4, temperature=1.5)
    texts += strict_samples(CODEC, VOCAB, model, 100, 200, seed=5, prime=PRIMES["a jig"], top_k=12)
    assert _not_clean(texts) == []


def test_without_strict_the_same_model_needs_repairs():
    config = SampleConfig(num=200, length=300, seed=0)
    texts = sample_texts(untrained_model(VOCAB), VOCAB, CODEC.separator, config, "cpu")
    assert len(_not_clean(texts)) > 190


@pytest.mark.slow
def test_samples_end_with_a_whole_tune_however_short_the_length():
    shortest = CODEC.constraint(VOCAB).shortest_piece()
    assert shortest == len("M:C\nL:1/1\nK:C\nA\n\n")
    model = untrained_model(VOCAB, 2)
    for length in (shortest, shortest + 1, 25, 40):
        texts = strict_samples(CODEC, VOCAB, model, 100, length, seed=length)
        assert _not_clean(texts) == [], length
        assert all(CODEC.decode(text).tune.notes for text in texts)


@pytest.mark.slow
def test_prime_is_checked_against_the_grammar():
    model = untrained_model(VOCAB)
    with pytest.raises(RnnMusicError, match="character 13"):  # no key H (German B) when strict
        strict_samples(CODEC, VOCAB, model, 2, 300, seed=1, prime="M:C\nL:1/8\nK:H\n")
    with pytest.raises(RnnMusicError, match="character 16"):  # a tie after a rest
        strict_samples(CODEC, VOCAB, model, 2, 300, seed=1, prime="M:C\nL:1/8\nK:G\nz-")
    with pytest.raises(RnnMusicError, match="character 18"):  # "||" then ":" reads as "|:"
        strict_samples(CODEC, VOCAB, model, 2, 300, seed=1, prime="M:C\nL:1/8\nK:G\nA||:")


def test_slurs_nest_two_deep_and_close_before_the_tune_ends():
    grammar = AbcGrammar()
    state = grammar.start
    for ch in "M:C\nL:1/8\nK:G\n((A":
        state = grammar.step(state, ch)
    paren = grammar.step(state, "(")
    assert grammar.step(paren, "B") is None  # a third level of slur
    assert grammar.step(paren, "3") is not None  # a tuplet
    assert grammar.step(state, "\n") is not None
    assert grammar.step(grammar.step(state, "\n"), "\n") is None  # the tune cannot end open
    texts = strict_samples(
        CODEC, VOCAB, untrained_model(VOCAB, 3), 100, 200, seed=3, prime="M:C\nL:1/8\nK:G\n((A"
    )
    assert _not_clean(texts) == []
    assert all(len(re.findall(r"\((?![2-9])", text)) == text.count(")") for text in texts)


def _accepts(grammar: AbcGrammar, text: str) -> bool:
    state = grammar.start
    for ch in text:
        state = grammar.step(state, ch)
        if state is None:
            return False
    return grammar.is_done(state)


@pytest.mark.slow
def test_the_grammar_accepts_most_real_tunes_as_they_are():
    """Strict sampling must not rule out the music the model learns from: 89.5% of the
    built-in corpus as it is (codecs/abc/README.md lists what the rest use)."""
    tunes = [tune for path in folk_abc_files() for tune in CODEC.encode_file(path)]
    assert len(tunes) > 12_000
    grammar = AbcGrammar()
    accepted = sum(_accepts(grammar, tune + CODEC.separator) for tune in tunes)
    assert accepted / len(tunes) > 0.88, accepted / len(tunes)


SESSION_TUNE = (  # what strict samples may hold: symbols, tuplets, graces, ties, endings
    "R:reel\nM:C|\nL:1/8\nK:Ador\n"
    '|:"Am"eA (3AAA eAcA|"G"{a}g2 ~B2 GABd|1 eA A>B c2 Bc:|2 eA A2 A2 z2||\n'
    "|:A2 [ce]2 !fermata!e4|d2-|d2 (3Bcd e2 ed:|"
)


def test_a_session_tune_is_accepted_and_a_vocabulary_without_a_bar_line_still_spells_tunes():
    grammar = AbcGrammar()
    assert _accepts(grammar, SESSION_TUNE + "\n\n")
    assert CODEC.decode(SESSION_TUNE).text == SESSION_TUNE
    for was, wrong in (
        ("~B2", "~(B2)"),
        ("{a}g2 ~B2", "{a}~g2 B2"),
        ("|1", "|"),
        ("d2-|d2", "d2-|e2"),
    ):
        # abc2midi refuses each: malformed note, two grace groups, ":|2" with no "|1", a tie
        assert not _accepts(grammar, SESSION_TUNE.replace(was, wrong) + "\n\n"), wrong
    # a tune needs no bar line; it does need a note, the header's letters and digits
    assert TableConstraint(grammar, [ch for ch in VOCAB if ch != "|"]).shortest_piece() == 17


@pytest.mark.slow
@pytest.mark.needs("abc2midi")
def test_strict_samples_are_read_by_music21_and_abc2midi(tmp_path):
    model = untrained_model(VOCAB, 4)
    texts = strict_samples(
        CODEC, VOCAB, model, 16, 300, seed=9, temperature=1.2
    )  # music21 takes seconds a tune
    texts += strict_samples(CODEC, VOCAB, model, 8, 300, seed=10, prime=PRIMES["a jig"])
    refused = []
    for number, text in enumerate(texts):
        piece = CODEC.decode(text)
        abc = piece.abc()
        assert music21_notes(abc), abc  # every sample: music21 reads its notes
        if number % 3 == 0:  # through music21 again: a third of them is enough
            CODEC.write(piece, tmp_path / f"sample-{number}.mid")
            assert (tmp_path / f"sample-{number}.mid").stat().st_size > 0
        if abc2midi_errors(abc):
            refused.append(abc)
    # abc2midi checks more than the grammar tracks (codecs/abc/README.md): a few percent
    assert len(refused) <= 2, refused[:3]


def test_notes_keep_within_the_span_training_tunes_keep_to():
    """An untrained model picks letters and octave marks at random (C,, to c''); with the
    profile of tunes spanning an octave and a third, every sample stays within that span."""
    tunes = [
        "X:1\nM:4/4\nL:1/8\nK:G\nG,A,B,C DEFG|ABcd e2f2|\n",
        "X:2\nM:6/8\nL:1/8\nK:D\nDEF ABc|\n",
    ]
    profile = profile_of(tunes * 10, CODEC)
    widest = max(CODEC.piece_facts(t).numbers["step_range"] for t in tunes)
    model = untrained_model(VOCAB)
    config = SampleConfig(num=60, length=300, seed=4)
    texts = sample_texts(
        model, VOCAB, CODEC.separator, config, "cpu", CODEC.constraint(VOCAB, profile)
    )
    assert _not_clean(texts) == []
    spans = [CODEC.piece_facts(t).numbers["step_range"] for t in texts]
    assert max(spans) <= widest
    free = sample_texts(model, VOCAB, CODEC.separator, config, "cpu", CODEC.constraint(VOCAB))
    assert max(CODEC.piece_facts(t).numbers["step_range"] for t in free) > widest + 7


@pytest.mark.needs("abc2midi")
def test_a_hornpipe_breaks_rhythm_only_where_abc2midi_can(tmp_path):
    """abc2midi swings a hornpipe's eighths in pairs and refuses a '>' that starts on the
    second of a pair ("Cannot apply broken rhythm"): 5 of 100 tiny-model samples had one."""
    import torch

    head = "R:hornpipe\nM:4/4\nL:1/8\nK:D\n"
    cases = {"ED": False, "D": True, "EFD": True, "EFGD": False}  # what precedes ">C"
    for prime, plays in cases.items():
        bar = prime + ">C" + "D" * (7 - len(prime)) + "|\n"
        assert (not abc2midi_errors("X:1\nT:t\n" + head + bar)) == plays, bar
    broken = VOCAB.index(">")
    constraint = CODEC.constraint(VOCAB)
    for prime, allowed in cases.items():
        constraint.reset(1, torch.device("cpu"))
        constraint.feed(head + prime, VOCAB)
        ok = constraint.allowed(torch.tensor([500]), torch.tensor([False]))
        assert bool(ok[0, broken]) is allowed, prime
