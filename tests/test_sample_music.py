"""A barely trained model still writes pieces a musician would open: strict samples hold notes
and open with the settings (tempo, meter, key, instruments, tuning) of the training pieces."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import tiny_config

from rnnmusic.checkpoint import load_checkpoint
from rnnmusic.codecs import get_codec
from rnnmusic.corpus import build_corpus
from rnnmusic.sample import SampleConfig, generate
from rnnmusic.sources import get_source
from rnnmusic.train import fit

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _pieces_for(codec: str, folder: Path) -> Path:
    """A small folder of real pieces of the codec's kind."""
    folder.mkdir()
    if codec == "midi-events":
        from rnnmusic.codecs.midi_events.corpus import chorale_scores, convert_chorale

        for score in chorale_scores()[:16]:
            convert_chorale(score, folder / f"{score.stem}.mid")
    elif codec == "abc":
        for path in get_source("folk-abc").raw_files()[:2]:
            shutil.copy(path, folder / path.name)
    else:
        for path in sorted((ROOT / "corpora" / "tabs").glob("*.txt")):
            shutil.copy(path, folder / path.name)
    return folder


@pytest.mark.parametrize("codec_name", ["midi-events", "abc", "tab"])
def test_a_300_step_tiny_model_writes_pieces_with_notes_and_the_corpus_settings(
    codec_name, tmp_path
):
    codec = get_codec(codec_name)
    source = _pieces_for(codec_name, tmp_path / "pieces")
    corpus = build_corpus(source, codec, tmp_path / "corpus", jobs=1, progress=False)
    run = fit(
        tiny_config(corpus.path, tmp_path / "run", codec=codec_name, max_steps=300, eval_every=300)
    ).run_dir
    ckpt = load_checkpoint(run)
    seen = corpus.profile.values
    length = ckpt.meta["default_sample_length"]
    samples = generate(ckpt, SampleConfig(num=20, length=length, seed=1, strict=True))

    assert len(samples) == 20 and samples.empty == []
    for text in samples:
        piece = codec.decode(text)
        assert piece.repairs == [], text
        assert codec.count_notes(piece) >= 16, text
        for setting, used in codec.piece_facts(text).values.items():
            assert set(used) <= set(seen[setting]), (setting, used, text[:80])
