"""Attacks on the `rnnmusic` command from outside (issue 18): each is one command line a user
could type, and what rnnmusic owes them: one sentence on stderr and exit 2, or correct output;
either within 10 s of CPU and 1 GB of memory, leaving no empty or half-written file behind.

The workspace holds what the attacks need, built at run time from real runs: two tiny trained
models (text and tab), checkpoints damaged the ways the issue lists (written by hand as an
attacker would, or with bytes flipped), named pipes, devices behind symlinks, MIDI headers that
lie, and small file systems that are full. `tests/test_hostile.py` runs every attack inside the
test process; `benchmarks/hostile.py` runs them as a user does, one process each, and records
how many hold in BENCHMARKS.md."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import struct
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hostile_files import C_MAJOR, END, smf
from safetensors.torch import load, save

ROOT = Path(__file__).resolve().parent.parent
PROJECT_TABS = ROOT / "corpora" / "tabs"
SECONDS = 10.0  # the bounds for every attack
PEAK_BYTES = 1024**3
DISK_KB = 512  # each full-disk attack gets a file system this small, filled to the brim


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str
    seconds: float  # CPU seconds inside the test process, wall seconds from outside
    peak_bytes: int


@dataclass(frozen=True)
class Attack:
    """One command line and what it must do. `argv(ws, out)` builds it; `out` is an empty folder
    for what it writes (on a full file system when `disk`). `says`: fragments the one-sentence
    error must hold; `check(out, result)` asserts correct output of an "ok" attack or the
    state an error must leave. `fill_when`: a file in `out` after whose appearance the disk is
    filled (a disk that fills up while training)."""

    name: str
    group: str  # the line of issue 18 it reproduces
    argv: Callable[[Workspace, Path], list[str]]
    expect: str = "error"
    says: tuple[str, ...] = ()
    check: Callable[[Path, Result], None] | None = None
    disk: bool = False
    fill_when: str | None = None
    stdin: str | None = None  # a workspace file given as standard input
    slow: bool = False  # minutes of setup or work: only with -m slow and in the benchmark
    heavy: bool = False  # the benchmark alone runs it (a 200 MB file)
    timeout: float = 120.0


# -- the workspace -------------------------------------------------------------------------------


@dataclass
class Workspace:
    root: Path
    made: dict[str, Path] = field(default_factory=dict)
    later: dict[str, Callable[[], Path]] = field(default_factory=dict)  # big files, on demand

    def __getitem__(self, name: str) -> Path:
        if name not in self.made:
            self.made[name] = self.later[name]()
        return self.made[name]

    def path(self, name: str) -> str:
        return str(self[name])

    def scratch(self, name: str) -> Path:
        folder = self.root / "out" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder


def _train(out: Path, codec: str, corpus: Path, **overrides) -> Path:
    """A model smaller still than `helpers.tiny_config`'s (the workspace trains two), at the
    preset's learning rate."""
    from helpers import tiny_config

    from rnnmusic.train import fit

    smaller = dict(
        codec=codec,
        hidden_size=32,
        num_layers=1,
        batch_size=8,
        max_steps=20,
        eval_every=10,
        learning_rate=None,
        warmup_steps=2,
    )
    with contextlib.redirect_stdout(None):
        fit(tiny_config(corpus, out, **{**smaller, **overrides}))
    return out


def _songs(path: Path, paragraphs: int = 300) -> Path:
    """Sung syllables, three lines a paragraph: a corpus a tiny model learns to end."""
    import random

    rng = random.Random(0)
    syllables = ["do", "re", "mi", "fa", "sol", "la", "ti"]
    text = "\n\n".join(
        "\n".join(" ".join(rng.choice(syllables) for _ in range(8)) for _ in range(3))
        for _ in range(paragraphs)
    )
    path.write_text(text + "\n", encoding="utf-8")
    return path


def checkpoint_parts(path: Path) -> tuple[dict, dict, dict]:
    """(metadata, tensors, the header's other metadata strings) of a checkpoint file."""
    data = path.read_bytes()
    header = json.loads(data[8 : 8 + struct.unpack("<Q", data[:8])[0]])
    texts = header["__metadata__"]
    return json.loads(texts["rnnmusic"]), load(data), texts


def forge(src: Path, dst: Path, meta=None, tensors=None, raw_meta: str | None = None) -> Path:
    """The checkpoint rewritten as someone editing it by hand would (no checksum: that is what
    older checkpoints look like, and a forger would leave it out)."""
    old_meta, old_tensors, _ = checkpoint_parts(src)
    old_meta.pop("checksum", None)  # as written before checksums, or by a careful forger
    if meta:
        meta(old_meta)
    if tensors:
        tensors(old_tensors)
    text = raw_meta(old_meta) if raw_meta else json.dumps(old_meta)
    dst.write_bytes(save(old_tensors, metadata={"rnnmusic": text}))
    return dst


def flip_bytes(src: Path, dst: Path, where: str, seed: int) -> Path:
    """One bit flipped in the tensor bytes (or the metadata text) of a checksummed checkpoint."""
    import random

    data = bytearray(src.read_bytes())
    header_end = 8 + struct.unpack("<Q", data[:8])[0]
    rng = random.Random(seed)
    if where == "tensors":
        index = rng.randrange(header_end, len(data))
    elif where == "checksum-name":  # the checksum is no longer found under its name
        index = data.index(b"rnnmusic_checksum") + len("rnnmusic_checksum") - 1
    else:  # a digit of the step number inside the metadata text
        index = data.index(b'\\"step\\": ') + len(b'\\"step\\": ')
    data[index] ^= 1 << rng.randrange(8) if where == "tensors" else 0x01
    dst.write_bytes(bytes(data))
    return dst


def _set(key: str, value) -> Callable[[dict], None]:
    def change(meta: dict) -> None:
        target = meta
        *parents, last = key.split(".")
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def _weight(value: float) -> Callable[[dict], None]:
    def change(tensors: dict) -> None:
        tensors["model.head.weight"][0, 0] = value

    return change


def _scaled(factor: float) -> Callable[[dict], None]:
    def change(tensors: dict) -> None:
        for name, tensor in tensors.items():
            if name.startswith("model."):
                tensor.mul_(factor)

    return change


def _duplicate_vocab(meta: dict) -> None:
    vocab = meta["vocab"]
    vocab[vocab.index("t")] = "e"  # 't' would print as 'e'


def build_workspace(root: Path) -> Workspace:
    """Everything the attacks read, under `root` (a few seconds: two tiny trainings)."""
    ws = Workspace(root)
    made = ws.made
    root.mkdir(parents=True, exist_ok=True)
    made["songs"] = _songs(root / "songs.txt")
    made["text-run"] = _train(root / "text-run", "text", made["songs"])
    made["tab-run"] = _train(root / "tab-run", "tab", PROJECT_TABS)
    best = made["text-run"] / "best.safetensors"
    last = made["text-run"] / "last.safetensors"
    forged = root / "forged"
    forged.mkdir()

    def forge_as(name: str, **kwargs) -> None:
        made[name] = forge(best, forged / f"{name}.safetensors", **kwargs)

    forge_as("inf-weight", tensors=_weight(math.inf))
    forge_as("nan-weight", tensors=_weight(math.nan))
    forge_as("weights-x1e30", tensors=_scaled(1e30))
    forge_as("nested-model", raw_meta=lambda m: _nested_model(m, 100_000))
    forge_as("version-string", meta=_set("format_version", "2"))
    forge_as("hidden-negative", meta=_set("model.hidden_size", -5))
    forge_as("hidden-1e9", meta=_set("model.hidden_size", 10**9))
    forge_as("layers-1e6", meta=_set("model.num_layers", 10**6))
    forge_as("vocab-size-1e7", meta=_set("model.vocab_size", 10**7))
    forge_as("sample-length-x", meta=_set("default_sample_length", "x"))
    forge_as("sample-length-1e12", meta=_set("default_sample_length", 10**12))
    forge_as("duplicate-vocab", meta=_duplicate_vocab)
    forge_as("old-no-checksum")  # as written before checksums: must still load
    for seed in range(3):
        made[f"flip-{seed}"] = flip_bytes(
            best, forged / f"flip-{seed}.safetensors", "tensors", seed
        )
    made["flip-meta"] = flip_bytes(best, forged / "flip-meta.safetensors", "meta", 0)
    made["flip-checksum-name"] = flip_bytes(
        best, forged / "flip-checksum-name.safetensors", "checksum-name", 0
    )
    cut = forged / "cut.safetensors"
    cut.write_bytes(best.read_bytes()[: best.stat().st_size // 2])
    made["cut"] = cut

    def run_copy(name: str, change: Callable[[Path], None]) -> None:
        copy = root / name
        shutil.copytree(made["text-run"], copy)
        change(copy)
        made[name] = copy

    run_copy("nan-run", lambda r: forge(best, r / "best.safetensors", tensors=_weight(math.nan)))
    run_copy(
        "no-optimizer-run",
        lambda r: forge(last, r / "last.safetensors", meta=lambda m: m.pop("optimizer")),
    )
    run_copy(
        "bad-train-run",
        lambda r: forge(last, r / "last.safetensors", meta=_set("train.learning_rate", -1)),
    )
    run_copy("bad-json-run", lambda r: (r / "run.json").write_text('{"config": '))
    run_copy("no-corpus-run", lambda r: (r / "run.json").write_text('{"config": {}}'))

    odd = root / "odd"
    odd.mkdir()
    for name in ("pipe.mid", "pipe.txt", "pipe.abc", "pipe.safetensors"):
        os.mkfifo(odd / name)
        made[name] = odd / name
    (odd / "zero.mid").symlink_to("/dev/zero")
    made["zero.mid"] = odd / "zero.mid"
    (odd / "zero.safetensors").symlink_to("/dev/zero")
    made["zero.safetensors"] = odd / "zero.safetensors"
    (odd / "folder.mid").mkdir()
    made["folder.mid"] = odd / "folder.mid"
    (odd / "empty-source").mkdir()
    made["empty-source"] = odd / "empty-source"

    chord = C_MAJOR + END
    for name, data in (
        ("30000-tracks.mid", smf([chord] * 30_000)),
        ("claims-65535-tracks.mid", smf([chord], claimed=65_535)),
        ("1000-tracks.mid", smf([chord] * 1000)),
    ):
        (odd / name).write_bytes(data)
        made[name] = odd / name
    words = ("la " * 40_000).encode()
    made["prime-90k.txt"] = odd / "prime-90k.txt"
    made["prime-90k.txt"].write_bytes(words[:90_000])
    made["prime-1mb.txt"] = odd / "prime-1mb.txt"
    made["prime-1mb.txt"].write_bytes(b"do re mi " * 120_000)
    for name, size in (("paragraph-64mb.txt", 64_000_000), ("paragraph-200mb.txt", 200_000_000)):
        ws.later[name] = lambda name=name, size=size: _paragraph(odd / name, size)
    return ws


def _nested_model(meta: dict, depth: int) -> str:
    """The metadata text with "model" replaced by `depth` nested arrays."""
    text = json.dumps(meta)
    return text.replace(json.dumps(meta["model"]), "[" * depth + "]" * depth)


def _paragraph(path: Path, size: int) -> Path:
    """One paragraph of `size` bytes: sung syllables and single spaces, no blank line."""
    line = b"do re mi fa sol la ti " * 1000
    with open(path, "wb") as file:
        for _ in range(size // len(line)):
            file.write(line)
        file.write(line[: size % len(line)])
    return path


# -- full file systems -------------------------------------------------------------------------


def can_mount() -> str | None:
    """None when a small tmpfs can be mounted here, else why not."""
    if os.geteuid() != 0:
        return "filling a disk honestly needs a small tmpfs, and mounting one needs root"
    if shutil.which("mount") is None or shutil.which("umount") is None:
        return "mount/umount are not installed"
    return None


def fill(folder: Path) -> None:
    """Write a file into `folder` until the file system says it is full."""
    with contextlib.suppress(OSError), open(folder / ".filler", "ab") as file:
        while True:
            file.write(b"\0" * 4096)
            file.flush()


@contextlib.contextmanager
def small_disk(folder: Path, full: bool) -> Iterator[Path]:
    """A DISK_KB tmpfs mounted at `folder` (filled to the brim when `full`)."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_KB}k", "tmpfs", str(folder)], check=True
    )
    try:
        if full:
            fill(folder)
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def fill_when_it_appears(path: Path, folder: Path, seconds: float = 60) -> threading.Thread:
    """A thread that fills `folder`'s disk as soon as `path` exists (a disk filling mid-run)."""

    def watch() -> None:
        deadline = time.monotonic() + seconds
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        fill(folder)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


# -- what every attack owes --------------------------------------------------------------------


def judge(attack: Attack, out: Path, result: Result) -> list[str]:
    """What went wrong (empty: the attack was met)."""
    problems = []
    err = result.stderr.strip()
    if attack.expect == "error":
        if result.code != 2:
            problems.append(f"exit {result.code}, not 2: {err[-300:]}")
        elif not err.startswith("rnnmusic: error: ") or len(err.splitlines()) != 1:
            problems.append(f"not one sentence: {err[-300:]}")
        for fragment in attack.says:
            if fragment not in err:
                problems.append(f"{fragment!r} not in {err[-300:]!r}")
    elif result.code != 0:
        problems.append(f"exit {result.code}, not 0: {err[-300:]}")
    if "Traceback" in result.stderr:
        problems.append("a traceback")
    if result.seconds > SECONDS:
        problems.append(f"took {result.seconds:.1f} s")
    if result.peak_bytes > PEAK_BYTES:
        problems.append(f"peaked at {result.peak_bytes / 1e6:,.0f} MB")
    for path in out.rglob("*") if out.exists() else ():
        if path.name == ".filler":
            continue
        if path.is_file() and path.stat().st_size == 0:
            problems.append(f"left an empty file {path.relative_to(out)}")
        if ".tmp-" in path.name:
            problems.append(f"left a temporary file {path.relative_to(out)}")
    if not problems and attack.check is not None:
        try:
            attack.check(out, result)
        except AssertionError as exc:
            problems.append(f"check: {exc}")
    return problems


# -- checks of correct output and of what an error leaves ---------------------------------------


def _nothing_in(out: Path, result: Result) -> None:
    left = sorted(p.name for p in out.iterdir() if p.name != ".filler")
    assert not left, f"left {left}"


def _samples(count: int, longest: int) -> Callable[[Path, Result], None]:
    def check(out: Path, result: Result) -> None:
        printed = result.stdout.removesuffix("\n")  # generate ends its output with one
        pieces = [p for p in printed.split("\n\n") if p.strip()]
        assert 1 <= len(pieces) <= count, len(pieces)
        assert max(map(len, pieces)) <= longest, max(map(len, pieces))

    return check


def _files(pattern: str, count: int) -> Callable[[Path, Result], None]:
    def check(out: Path, result: Result) -> None:
        found = sorted(out.glob(pattern))
        assert len(found) == count, (len(found), count)
        assert all(p.stat().st_size > 0 for p in found)

    return check


def _png(out: Path, result: Result) -> None:
    png = out / "roll.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "no PNG written"


def _no_run(out: Path, result: Result) -> None:
    assert not (out / "run").exists(), f"left {sorted(p.name for p in (out / 'run').iterdir())}"


def _corpus_of_one_paragraph(size: int) -> Callable[[Path, Result], None]:
    def check(out: Path, result: Result) -> None:
        meta = json.loads((out / "corpus" / "corpus.json").read_text())
        tokens = meta["train_tokens"] + meta["valid_tokens"]
        assert abs(tokens - size) < 100, (tokens, size)

    return check


def _resumable(out: Path, result: Result) -> None:
    """The disk filled mid-training: the run stopped, nothing in it is damaged, and it goes on
    once there is space again."""
    from rnnmusic.checkpoint import load_checkpoint
    from rnnmusic.train import TrainConfig, fit

    run = out / "run"
    step = load_checkpoint(run / "last.safetensors").meta["step"]
    for name in ("metrics.jsonl", "samples.jsonl"):  # the disk may fill while the first is made
        for line in (run / name).read_text().splitlines() if (run / name).exists() else ():
            json.loads(line)  # every line whole
    (out / ".filler").unlink(missing_ok=True)
    with contextlib.redirect_stdout(None):
        done = fit(TrainConfig(max_steps=step + 10, progress=False), resume=run)
    assert done.step == step + 10, (done.step, step)


# -- the attacks ------------------------------------------------------------------------------


def _gen(run: str, *options: str) -> Callable[[Workspace, Path], list[str]]:
    return _cmd("generate", "{" + run + "}", *options)


def _cmd(*parts: str) -> Callable[[Workspace, Path], list[str]]:
    """Arguments where "{name}" is a workspace file and "@name" a file in the output folder."""

    def argv(ws: Workspace, out: Path) -> list[str]:
        args = []
        for part in parts:
            if part.startswith("{"):  # "{name}" or "{name}/inside"
                name, rest = part[1:].split("}", 1)
                args.append(ws.path(name) + rest)
            elif part.startswith("@"):
                args.append(str(out / part[1:]))
            else:
                args.append(part)
        return args

    return argv


def _train_into(line: str) -> Callable[[Workspace, Path], list[str]]:
    """`train` of a tiny text model into "@run"; `line` is the corpus, then further options."""
    corpus, *options = line.split()
    return _cmd(
        "train", "--codec", "text", "--corpus", corpus, "--out", "@run", "--hidden-size", "32",
        "--num-layers", "1", "--batch-size", "8", "--seq-len", "32", "--no-progress", *options,
    )  # fmt: skip


def _corpus_build(source: str) -> str:
    return f"corpus build {source} --codec text -o @corpus --no-progress"


def _argv(command: str | Callable[[Workspace, Path], list[str]]) -> Callable[..., list[str]]:
    """A command line written as one string is split at spaces (as `_cmd` parts, so "{name}"
    and "@name" work); one whose parts may hold spaces (a path) is given as `_cmd(...)`."""
    return _cmd(*command.split()) if isinstance(command, str) else command


# Each attack is one line of the table below, in one of three shapes, so a case reads as
# name, group, command line and what it owes.


def _no(name: str, group: str, command, *says: str, **more: Any) -> Attack:
    """An attack rnnmusic must refuse: exit 2 with one sentence holding each of `says`."""
    return Attack(name, group, _argv(command), says=says, **more)


def _ok(name: str, group: str, command, check, **more: Any) -> Attack:
    """An attack rnnmusic must carry out: exit 0, and `check` holds for what it wrote."""
    return Attack(name, group, _argv(command), expect="ok", check=check, **more)


def _full_disk(name: str, command, *says: str, **more: Any) -> Attack:
    """A command writing to a full disk: it says so (and each of `says`) and leaves nothing."""
    settings = {"disk": True, "check": _nothing_in, **more}
    return Attack(name, DISK, _argv(command), says=("disk is full", *says), **settings)


BLUE_LANTERN = str(PROJECT_TABS / "blue-lantern.txt")

WEIGHTS = "checkpoint weights and metadata"
OPTIONS = "generate and train options"
DISK = "a full disk"
READS = "inputs that are not regular files"
HANGS = "hangs and absurd memory"
TRAIN = "train and baseline"

# fmt: off
ATTACKS = [
    # -- checkpoints ------------------------------------------------------------------------
    _no("weight-inf", WEIGHTS, "generate {inf-weight}", "infinite"),
    _no("weight-nan", WEIGHTS, "generate {nan-weight}", "NaN"),
    _no("eval-nan-best", WEIGHTS, "eval {nan-run} --num 2", "NaN"),
    _no("inspect-nan", WEIGHTS, "inspect {nan-weight} --input {songs} -o @page.html", "NaN", check=_nothing_in),
    _no("weights-x1e30", WEIGHTS, "generate {weights-x1e30}", "beyond"),
    _no("model-100000-nested", WEIGHTS, "generate {nested-model}", "nests too deeply"),
    _no("format-version-string", WEIGHTS, "generate {version-string}", "format version"),
    _no("hidden-size-negative", WEIGHTS, "generate {hidden-negative}", "hidden_size"),
    _no("hidden-size-1e9", WEIGHTS, "generate {hidden-1e9}", "hidden_size"),
    _no("num-layers-1e6", WEIGHTS, "generate {layers-1e6}", "num_layers"),
    _no("vocab-size-1e7", WEIGHTS, "generate {vocab-size-1e7}", "vocab_size"),
    _no("sample-length-x", WEIGHTS, "generate {sample-length-x}", "default_sample_length"),
    _no("sample-length-1e12", WEIGHTS, "generate {sample-length-1e12}", "default_sample_length"),
    _no("duplicate-vocab-entry", WEIGHTS, "generate {duplicate-vocab}", "twice"),
    *(_no(f"bit-flip-{seed}", WEIGHTS, _gen(f"flip-{seed}"), "checksum") for seed in range(3)),
    _no("bit-flip-in-metadata", WEIGHTS, "generate {flip-meta}", "checksum"),
    _no("bit-flip-in-checksum-name", WEIGHTS, "generate {flip-checksum-name}", "checksum"),
    _no("truncated-checkpoint", WEIGHTS, "generate {cut}", "damaged"),
    _ok("old-checkpoint-without-checksum", WEIGHTS, "generate {old-no-checksum} --length 40 --seed 1", _samples(1, 40)),
    _no("resume-without-optimizer", WEIGHTS, "train --resume {no-optimizer-run} --no-progress", "optimizer"),
    _no("resume-damaged-settings", WEIGHTS, "train --resume {bad-train-run} --no-progress", "training settings", "--learning-rate"),
    # -- options ------------------------------------------------------------------------------
    _no("temperature-inf-tab", OPTIONS, "generate {tab-run} --temperature inf", "--temperature"),
    _no("temperature-1e-40-tab", OPTIONS, "generate {tab-run} --temperature 1e-40", "--temperature"),
    _no("temperature-1e-40-text", OPTIONS, "generate {text-run} --temperature 1e-40", "--temperature"),
    _no("temperature-nan", OPTIONS, "generate {text-run} --temperature nan", "--temperature"),
    _no("top-p-nan", OPTIONS, "generate {text-run} --top-p nan", "--top-p"),
    _no("top-p-2", OPTIONS, "generate {text-run} --top-p 2", "--top-p"),
    _no("top-k-0", OPTIONS, "generate {text-run} --top-k 0", "--top-k"),
    _no("seed-10^23", OPTIONS, "generate {text-run} --seed 99999999999999999999999", "--seed"),
    _no("seed-negative", OPTIONS, "generate {text-run} --seed -1", "--seed"),
    _no("length-0", OPTIONS, "generate {text-run} --length 0", "--length"),
    _no("length-1e9", OPTIONS, "generate {text-run} --length 1000000000", "--length"),
    _no("eval-length-0", OPTIONS, "eval {text-run} --length 0 --num 2", "--length"),
    _no("num-0", OPTIONS, "generate {text-run} --num 0", "--num"),
    _no("num-100000-to-files", OPTIONS, "generate {text-run} --num 100000 --length 50 -o @s.txt", "--num", check=_nothing_in),
    _no("output-in-proc", OPTIONS, "generate {text-run} --length 20 -o /proc/x.txt", "could not write /proc/x.txt"),
    _no("train-seed-negative", OPTIONS, _train_into("{songs} --seed -1"), "--seed", check=_no_run),
    _no("train-hidden-1e9", OPTIONS, _train_into("{songs} --hidden-size 1000000000"), "--hidden-size", check=_no_run),
    _no("train-learning-rate-nan", OPTIONS, _train_into("{songs} --learning-rate nan"), "--learning-rate", check=_no_run),
    _ok("length-1e6-num-500-grows-with-use", OPTIONS, "generate {text-run} --length 1000000 --num 500 --seed 3", _samples(500, 1_000_000)),
    _ok("length-1-is-one-character", OPTIONS, "generate {text-run} --length 1 --num 3 --seed 1 --no-strict", _samples(3, 1)),
    # -- reading only regular files ------------------------------------------------------------
    _no("encode-dev-zero", READS, "encode /dev/zero --codec text", "is a device"),
    _no("encode-symlink-to-dev-zero", READS, "encode {zero.mid}", "is a device"),
    _no("encode-named-pipe", READS, "encode {pipe.mid}", "is a named pipe"),
    _no("encode-folder", READS, "encode {folder.mid}", "is a folder"),
    _no("decode-named-pipe", READS, "decode {pipe.txt} --codec text -o @d.txt", "is a named pipe", check=_nothing_in),
    _no("decode-dev-zero", READS, "decode /dev/zero --codec text -o @d.txt", "is a device", check=_nothing_in),
    _no("decode-stdin-from-dev-zero", READS, "decode - --codec text -o @d.txt", "standard input", "holds more than", stdin="/dev/zero", check=_nothing_in),
    _no("prime-file-dev-zero", READS, "generate {text-run} --prime-file /dev/zero", "is a device"),
    _no("prime-file-named-pipe", READS, "generate {text-run} --prime-file {pipe.txt}", "is a named pipe"),
    _no("convert-named-pipe", READS, "convert {pipe.abc} @t.mid", "is a named pipe", check=_nothing_in),
    _no("plot-named-pipe", READS, "plot {pipe.mid} -o @roll.png", "is a named pipe", check=_nothing_in),
    _no("checkpoint-named-pipe", READS, "generate {pipe.safetensors}", "is a named pipe"),
    _no("checkpoint-dev-zero", READS, "generate {zero.safetensors}", "is a device"),
    # -- hangs and absurd memory ------------------------------------------------------------------
    _no("plot-30000-tracks", HANGS, "plot {30000-tracks.mid} -o @roll.png", "30,000 tracks", check=_nothing_in),
    _no("encode-header-claims-65535-tracks", HANGS, "encode {claims-65535-tracks.mid}", "65,535 tracks"),
    _ok("plot-1000-tracks", HANGS, "plot {1000-tracks.mid} -o @roll.png", _png),
    _no("prime-1-MB", HANGS, "generate {text-run} --prime-file {prime-1mb.txt} --length 20", "prime-1mb.txt", "larger than"),
    _ok("prime-90-KB-for-20-samples", HANGS, "generate {text-run} --prime-file {prime-90k.txt} --length 20 --num 20", lambda out, result: _primed_text(result)),
    _ok("corpus-of-one-64-MB-paragraph", HANGS, _corpus_build("{paragraph-64mb.txt}"), _corpus_of_one_paragraph(64_000_000), slow=True),
    _ok("corpus-of-one-200-MB-paragraph", HANGS, _corpus_build("{paragraph-200mb.txt}"), _corpus_of_one_paragraph(200_000_000), heavy=True, timeout=600),
    # -- train and baseline -------------------------------------------------------------------
    _no("train-corpus-nowhere", TRAIN, _train_into("/nope/songs"), "/nope/songs", "neither a file", check=_no_run),
    _no("train-fails-leaves-no-run-folder", TRAIN, _train_into("{empty-source}"), "holds no", check=_no_run),
    _no("baseline-malformed-run-json", TRAIN, "baseline {bad-json-run}", "run.json", "not valid JSON"),
    _no("baseline-run-json-without-corpus", TRAIN, "baseline {no-corpus-run}", "names no corpus"),
    # -- a full disk --------------------------------------------------------------------------
    _full_disk("generate-o-full-disk", "generate {text-run} --length 30 -o @s.txt"),
    _full_disk("generate-gp5-full-disk", "generate {tab-run} --length 200 --no-strict -o @s.gp5"),
    _full_disk("convert-full-disk", _cmd("convert", BLUE_LANTERN, "@b.mid", "--codec", "tab")),
    _full_disk("decode-full-disk", "decode {songs} --codec text -o @d.txt"),
    _full_disk("plot-full-disk", "plot {1000-tracks.mid} -o @roll.png"),
    _full_disk("corpus-build-full-disk", _corpus_build("{songs}")),
    _full_disk("train-out-full-disk", _train_into("{songs} --max-steps 4")),
    _full_disk("train-disk-fills-mid-run", _train_into("{text-run}/corpus --max-steps 100000 --eval-every 5"), "--resume", fill_when="run/samples.jsonl", check=_resumable),
]
# fmt: on


def _primed_text(result: Result) -> None:
    """20 samples, each the 90,000-character prime and what the model went on with."""
    pieces = [p.lstrip("\n") for p in result.stdout.removesuffix("\n").split("\n\n")]
    assert len(pieces) == 20, len(pieces)
    assert all(p.startswith("la la la") and len(p) >= 89_999 for p in pieces), [
        p[:20] for p in pieces
    ]


def attack_named(name: str) -> Attack:
    return next(a for a in ATTACKS if a.name == name)
