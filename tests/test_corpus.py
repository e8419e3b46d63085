"""Corpus building: deterministic split, never-empty validation, skipped files reported."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rnnmusic.codecs import get_codec
from rnnmusic.corpus import Corpus, build_corpus
from rnnmusic.errors import CorpusError


def _write_paragraph_files(folder, files=6, paragraphs=30):
    folder.mkdir()
    for f in range(files):
        text = "\n\n".join(
            f"file {f} paragraph {p}: " + "la " * (p % 7 + 1) for p in range(paragraphs)
        )
        (folder / f"f{f}.txt").write_text(text, encoding="utf-8")
    return folder


def test_tokens_decode_back_to_the_pieces_and_the_split_is_by_piece(tmp_path):
    src = _write_paragraph_files(tmp_path / "src")
    corpus = build_corpus(src, get_codec("text"), tmp_path / "c", jobs=1, progress=False)
    codec = get_codec("text")
    train, valid = corpus.text("train"), corpus.text("valid")
    assert train.startswith("\n\n") and train.endswith("\n\n")
    train_pieces, valid_pieces = codec.split_pieces(train), codec.split_pieces(valid)
    expected = {p for f in sorted(src.iterdir()) for p in codec.encode_file(f)}
    assert set(train_pieces) | set(valid_pieces) == expected
    assert not set(train_pieces) & set(valid_pieces)
    assert 0 < len(valid_pieces) < 0.15 * len(expected)
    assert corpus.tokens("train").dtype == np.uint8


def test_jobs_do_not_change_the_token_files(tmp_path):
    src = _write_paragraph_files(tmp_path / "src", files=12)
    one = build_corpus(src, get_codec("text"), tmp_path / "one", jobs=1, progress=False)
    two = build_corpus(src, get_codec("text"), tmp_path / "two", jobs=2, progress=False)
    for split in ("train", "valid"):
        assert (one.path / f"{split}.bin").read_bytes() == (two.path / f"{split}.bin").read_bytes()
    assert one.vocab == two.vocab


def test_validation_is_never_empty(tmp_path):
    single = tmp_path / "one.txt"
    single.write_text("a single paragraph of text that is long enough to split", encoding="utf-8")
    corpus = build_corpus(single, get_codec("text"), tmp_path / "c", progress=False)
    assert corpus.meta["valid_tokens"] > 2 and corpus.meta["train_tokens"] > 2
    two = tmp_path / "two.txt"
    two.write_text("first piece\n\nsecond piece", encoding="utf-8")
    corpus = build_corpus(two, get_codec("text"), tmp_path / "c2", progress=False)
    assert corpus.meta["report"]["valid_pieces"] == 1 and corpus.meta["report"]["train_pieces"] == 1


def test_unreadable_files_are_skipped_and_reported(tmp_path):
    src = _write_paragraph_files(tmp_path / "src", files=2)
    (src / "junk.txt").write_bytes(bytes(range(256)) * 10)
    (src / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    (src / "empty.txt").write_bytes(b"")
    corpus = build_corpus(src, get_codec("text"), tmp_path / "c", jobs=2, progress=False)
    skipped = corpus.meta["report"]["skipped"]
    assert set(map(lambda p: p.rsplit("/", 1)[-1], skipped)) == {
        "junk.txt",
        "latin1.txt",
        "empty.txt",
    }
    assert "binary" in skipped[str(src / "junk.txt")]
    assert "UTF-8" in skipped[str(src / "latin1.txt")]
    assert corpus.meta["report"]["files_read"] == 2


def test_empty_folder_and_all_bad_files_are_clear_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="holds no"):
        build_corpus(tmp_path / "empty", get_codec("text"), tmp_path / "c", progress=False)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.txt").write_bytes(b"\x00\x01\x02")
    with pytest.raises(CorpusError, match="all 1 files were skipped"):
        build_corpus(bad, get_codec("text"), tmp_path / "c", progress=False)
    assert not (tmp_path / "c" / "corpus.json").exists()


def test_large_vocabularies_use_sixteen_bit_tokens(tmp_path):
    text = "\n\n".join(
        "".join(chr(0x4E00 + (i * 7 + j) % 600) for j in range(40)) for i in range(50)
    )
    (tmp_path / "cjk.txt").write_text(text, encoding="utf-8")
    corpus = build_corpus(tmp_path / "cjk.txt", get_codec("text"), tmp_path / "c", progress=False)
    assert corpus.tokens("train").dtype == np.uint16
    assert len(corpus.vocab) > 256
    pieces = set(get_codec("text").split_pieces(corpus.text("train") + corpus.text("valid")))
    assert pieces == set(text.split("\n\n"))


def test_damaged_token_files_are_detected(tmp_path):
    src = _write_paragraph_files(tmp_path / "src", files=1)
    corpus = build_corpus(src, get_codec("text"), tmp_path / "c", progress=False)
    with open(corpus.path / "train.bin", "ab") as f:
        f.write(b"\x00\x00")
    with pytest.raises(CorpusError, match="damaged"):
        Corpus.load(tmp_path / "c").tokens("train")


@pytest.mark.parametrize(
    "damage, field",
    [
        (lambda m: m.pop("report"), "'report'"),
        (lambda m: m.update(train_tokens="many"), "'train_tokens'"),
        (lambda m: m.update(dtype="float64"), "token type"),
        (lambda m: m["report"].update(colour="red"), "build report"),
    ],
)
def test_a_damaged_corpus_record_is_refused_on_load_naming_the_field(tmp_path, damage, field):
    """A hand-edited or half-synced corpus.json: one sentence when the corpus opens, not a
    KeyError in the middle of training."""
    src = _write_paragraph_files(tmp_path / "src", files=1)
    corpus = build_corpus(src, get_codec("text"), tmp_path / "c", progress=False)
    assert corpus.report.train_tokens == corpus.meta["train_tokens"] > 0
    record = tmp_path / "c" / "corpus.json"
    meta = json.loads(record.read_text())
    damage(meta)
    record.write_text(json.dumps(meta))
    with pytest.raises(CorpusError, match=f"{field}.*build the corpus again"):
        Corpus.load(tmp_path / "c")


def test_duplicates_are_dropped_wherever_they_occur(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    pieces = [f"piece number {i} " + "x" * (i % 5) for i in range(40)]
    (folder / "a.txt").write_text("\n\n".join(pieces), encoding="utf-8")
    (folder / "b.txt").write_text("\n\n".join(pieces[::2] + ["one more"]), encoding="utf-8")
    corpus = build_corpus(folder, get_codec("text"), tmp_path / "c", jobs=1, progress=False)
    report = corpus.meta["report"]
    assert report["pieces"] == 61 and report["duplicates"] == 20
    codec = get_codec("text")
    stored = codec.split_pieces(corpus.text("train")) + codec.split_pieces(corpus.text("valid"))
    assert sorted(stored) == sorted(set(pieces) | {"one more"})


def test_a_single_piece_is_split_between_train_and_validation(tmp_path):
    text = "one long paragraph without blank lines, " * 5
    (tmp_path / "one.txt").write_text(text, encoding="utf-8")
    corpus = build_corpus(tmp_path / "one.txt", get_codec("text"), tmp_path / "c", progress=False)
    train, valid = corpus.text("train"), corpus.text("valid")
    assert train.startswith("\n\n") and valid.startswith("\n\n") and valid.endswith("\n\n")
    assert (train.strip("\n") + valid.strip("\n")) == text


def test_a_full_disk_is_a_clear_error_and_keeps_the_old_corpus(tmp_path, monkeypatch):
    import errno

    from rnnmusic import corpus as corpus_module

    src = _write_paragraph_files(tmp_path / "src", files=2)
    first = build_corpus(src, get_codec("text"), tmp_path / "c", progress=False)
    before = (first.path / "train.bin").read_bytes()

    def disk_full(self):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(corpus_module._TokenWriter, "flush", disk_full)
    with pytest.raises(CorpusError, match="disk is full"):
        build_corpus(src, get_codec("text"), tmp_path / "c", progress=False)
    assert (tmp_path / "c" / "train.bin").read_bytes() == before
    assert Corpus.load(tmp_path / "c").meta["train_tokens"] == first.meta["train_tokens"]
    assert not (tmp_path / "c" / ".building").exists()


def test_a_file_that_hangs_the_reader_is_skipped_after_the_time_limit(tmp_path, monkeypatch):
    import time

    from rnnmusic import encoding_pool
    from rnnmusic.codecs.text import TextCodec

    class SlowCodec(TextCodec):
        def encode_file(self, path):
            if "slow" in str(path):
                time.sleep(30)
            return super().encode_file(path)

    src = _write_paragraph_files(tmp_path / "src", files=2)
    (src / "slow.txt").write_text("never read", encoding="utf-8")
    monkeypatch.setattr(encoding_pool, "FILE_SECONDS", 0.5)
    started = time.monotonic()
    corpus = build_corpus(src, SlowCodec(), tmp_path / "c", jobs=1, progress=False)
    assert time.monotonic() - started < 20  # the 30-s read was cut short (0.5 s limit)
    assert "took longer than" in corpus.meta["report"]["skipped"][str(src / "slow.txt")]


def test_a_corpus_built_before_the_codec_learned_a_fact_works_its_profile_out_again(tmp_path):
    """A cached built-in corpus outlives an upgrade: its profile must not lack the facts
    strict sampling now keeps to (here ABC's note span), or samples wander as before."""
    src = tmp_path / "tunes"
    src.mkdir()
    tunes = [f"X:{n}\nM:4/4\nL:1/8\nK:G\nG,A,B,C DEFG|ABcd e2f2|]\n" for n in range(1, 30)]
    (src / "tunes.abc").write_text("\n".join(tunes), encoding="utf-8")
    codec = get_codec("abc")
    built = build_corpus(src, codec, tmp_path / "c", jobs=1, progress=False)
    assert built.profile.quantile("step_range", 0.5) == 13
    record = tmp_path / "c" / "corpus.json"
    old = json.loads(record.read_text())
    del old["profile"]["numbers"]["step_range"]
    old.pop("profile_version")
    record.write_text(json.dumps(old))

    corpus = Corpus.load(tmp_path / "c")
    assert corpus.profile.quantile("step_range", 0.5) == 13
    again = json.loads(record.read_text())  # recorded, so the next load reads it
    assert again["profile_version"] == codec.profile_version
    assert "step_range" in again["profile"]["numbers"]


# -- built-in sources ---------------------------------------------------------------------------


def test_each_codec_declares_its_default_corpus_and_the_sources_are_found_by_name():
    from rnnmusic.codecs import available_codecs, codec_class
    from rnnmusic.sources import all_sources, get_source

    declared = {}
    for name in available_codecs():
        cls = codec_class(name)
        names = [s.name for s in cls.sources()]
        assert cls.default_corpus in names
        declared.update((s.name, s) for s in cls.sources())
    assert [s.name for s in all_sources()] == sorted(declared)
    assert all(get_source(name) is source for name, source in declared.items())
    with pytest.raises(CorpusError, match="built-in: bach-chorales, folk-abc, folk-tabs, python"):
        get_source("no-such-corpus")


def test_a_plug_in_codec_declares_sources_without_replacing_a_built_in_one():
    import rnnmusic.codecs as registry
    from rnnmusic.codecs.base import Source
    from rnnmusic.codecs.text import TextCodec
    from rnnmusic.sources import get_source

    def none():
        return []

    class PlugIn(TextCodec):
        name = "plug-in"

        @classmethod
        def sources(cls):
            return tuple(
                Source(name, "d", "l", ("plug-in",), none, none)
                for name in ("plug-in-corpus", "python-stdlib")
            )

    registry._registry()["plug-in"] = PlugIn
    try:
        assert get_source("plug-in-corpus").codecs == ("plug-in",)
        assert get_source("python-stdlib").codecs == ("text",)
    finally:
        registry._registry.cache_clear()
