"""`generate --strict` for midi-events: an untrained model writes only pieces that decode with
zero repairs and play as MIDI."""

from __future__ import annotations

import re

import mido
import pytest
from untrained import untrained_model

from rnnmusic.codecs import get_codec
from rnnmusic.errors import RnnMusicError
from rnnmusic.profile import profile_of
from rnnmusic.sample import SampleConfig, sample_texts

# every character the grammar knows, so the sampler can try every mistake
VOCAB = sorted(set(".+-@vTM\n /0123456789CcDdEFfGgAaB_"))


@pytest.mark.slow
@pytest.mark.parametrize("options", [{}, {"velocity_bins": 4, "ticks_per_beat": 12}])
def test_thousands_of_strict_samples_decode_with_zero_repairs(options, tmp_path):
    codec = get_codec("midi-events", **options)
    model = untrained_model(VOCAB)
    texts = []
    for seed, length in ((0, 60), (1, 500), (2, 1200)):
        config = SampleConfig(num=500 if length < 1200 else 100, length=length, seed=seed)
        texts += sample_texts(model, VOCAB, codec.separator, config, "cpu", codec.constraint(VOCAB))
    repaired = [(t, p.repairs) for t in texts if (p := codec.decode(t)).repairs]
    assert repaired == []
    assert sum("+" in t for t in texts) > len(texts) // 2  # real music, not empty headers
    for number, text in enumerate(texts[:: len(texts) // 20]):
        target = tmp_path / f"s{number}.mid"
        codec.write(codec.decode(text), target)
        assert len(mido.MidiFile(target).tracks) >= 1


def test_without_strict_the_same_model_needs_repairs():
    codec = get_codec("midi-events")
    config = SampleConfig(num=200, length=300, seed=0)
    texts = sample_texts(untrained_model(VOCAB), VOCAB, codec.separator, config, "cpu")
    assert sum(bool(codec.decode(t).repairs) for t in texts) > 150


def test_prime_and_length_are_checked_against_the_grammar():
    codec = get_codec("midi-events")
    model = untrained_model(VOCAB)
    good = SampleConfig(num=20, length=300, seed=1, prime="T90 M3/4\n+C4+E4")
    texts = sample_texts(model, VOCAB, codec.separator, good, "cpu", codec.constraint(VOCAB))
    assert all(t.startswith("T90 M3/4\n+C4+E4") and not codec.decode(t).repairs for t in texts)
    with pytest.raises(RnnMusicError, match="character 10"):
        bad = SampleConfig(num=2, length=300, seed=1, prime="T90 M3/4\n-C4")
        sample_texts(model, VOCAB, codec.separator, bad, "cpu", codec.constraint(VOCAB))
    with pytest.raises(RnnMusicError, match="too short"):
        short = SampleConfig(num=2, length=5, seed=1)
        sample_texts(model, VOCAB, codec.separator, short, "cpu", codec.constraint(VOCAB))


# a chorale's first bar is a one-beat pickup, written as a 1/4 bar; the piece is in 4/4
PICKUP_PIECES = [
    "T96 M1/4\n+G3+D4..-G3-D4+A3..\nM4/4-A3+B3+G4........-B3-G4\n+C4........-C4",
    "T80 M1/4\n+C4..-C4\nM4/4+E4........-E4\n+G4........-G4",
    "T96 M4/4\n+C4........-C4\n+G4........-G4",
]


def test_opening_and_body_meters_are_told_apart():
    facts = [get_codec("midi-events").piece_facts(text).values for text in PICKUP_PIECES]
    assert [sorted(f["meter"]) for f in facts] == [["1/4", "4/4"], ["1/4", "4/4"], ["4/4"]]
    assert [sorted(f["body_meter"]) for f in facts] == [["4/4"], ["4/4"], ["4/4"]]


def test_a_piece_that_opens_with_a_pickup_bar_settles_into_the_training_meter():
    """Without the body-meter fact, 16 of 30 samples of the shipped chorales model stayed in
    1/4 to the end: MuseScore showed a bar per beat."""
    codec = get_codec("midi-events")
    profile = profile_of(PICKUP_PIECES * 10, codec)
    config = SampleConfig(num=200, length=400, seed=3)
    constraint = codec.constraint(VOCAB, profile)
    texts = sample_texts(untrained_model(VOCAB), VOCAB, codec.separator, config, "cpu", constraint)
    opened_with_pickup = 0
    for text in texts:
        assert codec.decode(text).repairs == []
        header, *bars = text.split("\n")
        assert header.split()[1] in ("M1/4", "M4/4"), header
        body_meters = set(re.findall(r"M(\d+/\d+)", "\n".join(bars[1:])))
        assert body_meters <= {"4/4"}, text
        if header.endswith("M1/4") and len(bars) > 1:
            opened_with_pickup += 1
            assert bars[1].startswith("M4/4"), text
    assert opened_with_pickup > 20
