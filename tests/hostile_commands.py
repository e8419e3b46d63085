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
    from rnnmusic.train import TrainConfig, fit

    values = dict(
        codec=codec,
        corpus=str(corpus),
        out=str(out),
        preset="tiny",
        hidden_size=32,
        num_layers=1,
        batch_size=8,
        seq_len=32,
        max_steps=20,
        eval_every=10,
        sample_length=60,
        progress=False,
        jobs=1,
        warmup_steps=2,
    )
    values.update(overrides)
    with contextlib.redirect_stdout(None):
        fit(TrainConfig(**values))
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
        lambda r: forge(last, r / "last.safetensors", meta=_set("train.batch_size", -1)),
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


def _train_into(corpus: str, *options: str) -> Callable[[Workspace, Path], list[str]]:
    return _cmd(
        "train", "--codec", "text", "--corpus", corpus, "--out", "@run", "--hidden-size", "32",
        "--num-layers", "1", "--batch-size", "8", "--seq-len", "32", "--no-progress", *options,
    )  # fmt: skip


WEIGHTS = "checkpoint weights and metadata"
OPTIONS = "generate and train options"
DISK = "a full disk"
READS = "inputs that are not regular files"
HANGS = "hangs and absurd memory"
TRAIN = "train and baseline"

ATTACKS = [
    # -- checkpoints ------------------------------------------------------------------------
    Attack("weight-inf", WEIGHTS, _gen("inf-weight"), says=("infinite",)),
    Attack("weight-nan", WEIGHTS, _gen("nan-weight"), says=("NaN",)),
    Attack("eval-nan-best", WEIGHTS, _cmd("eval", "{nan-run}", "--num", "2"), says=("NaN",)),
    Attack(
        "inspect-nan",
        WEIGHTS,
        _cmd("inspect", "{nan-weight}", "--input", "{songs}", "-o", "@page.html"),
        says=("NaN",),
        check=_nothing_in,
    ),
    Attack("weights-x1e30", WEIGHTS, _gen("weights-x1e30"), says=("beyond",)),
    Attack("model-100000-nested", WEIGHTS, _gen("nested-model"), says=("nests too deeply",)),
    Attack("format-version-string", WEIGHTS, _gen("version-string"), says=("format version",)),
    Attack("hidden-size-negative", WEIGHTS, _gen("hidden-negative"), says=("hidden_size",)),
    Attack("hidden-size-1e9", WEIGHTS, _gen("hidden-1e9"), says=("hidden_size",)),
    Attack("num-layers-1e6", WEIGHTS, _gen("layers-1e6"), says=("num_layers",)),
    Attack("vocab-size-1e7", WEIGHTS, _gen("vocab-size-1e7"), says=("vocab_size",)),
    Attack("sample-length-x", WEIGHTS, _gen("sample-length-x"), says=("default_sample_length",)),
    Attack(
        "sample-length-1e12", WEIGHTS, _gen("sample-length-1e12"), says=("default_sample_length",)
    ),
    Attack("duplicate-vocab-entry", WEIGHTS, _gen("duplicate-vocab"), says=("twice",)),
    *(
        Attack(f"bit-flip-{seed}", WEIGHTS, _gen(f"flip-{seed}"), says=("checksum",))
        for seed in range(3)
    ),
    Attack("bit-flip-in-metadata", WEIGHTS, _gen("flip-meta"), says=("checksum",)),
    Attack("bit-flip-in-checksum-name", WEIGHTS, _gen("flip-checksum-name"), says=("checksum",)),
    Attack("truncated-checkpoint", WEIGHTS, _gen("cut"), says=("damaged",)),
    Attack(
        "old-checkpoint-without-checksum",
        WEIGHTS,
        _gen("old-no-checksum", "--length", "40", "--seed", "1"),
        expect="ok",
        check=_samples(1, 40),
    ),
    Attack(
        "resume-without-optimizer",
        WEIGHTS,
        _cmd("train", "--resume", "{no-optimizer-run}", "--no-progress"),
        says=("optimizer",),
    ),
    Attack(
        "resume-damaged-settings",
        WEIGHTS,
        _cmd("train", "--resume", "{bad-train-run}", "--no-progress"),
        says=("training settings", "--batch-size"),
    ),
    # -- options ------------------------------------------------------------------------------
    Attack(
        "temperature-inf-tab",
        OPTIONS,
        _gen("tab-run", "--temperature", "inf"),
        says=("--temperature",),
    ),
    Attack(
        "temperature-1e-40-tab",
        OPTIONS,
        _gen("tab-run", "--temperature", "1e-40"),
        says=("--temperature",),
    ),
    Attack(
        "temperature-1e-40-text",
        OPTIONS,
        _gen("text-run", "--temperature", "1e-40"),
        says=("--temperature",),
    ),
    Attack(
        "temperature-nan",
        OPTIONS,
        _gen("text-run", "--temperature", "nan"),
        says=("--temperature",),
    ),
    Attack("top-p-nan", OPTIONS, _gen("text-run", "--top-p", "nan"), says=("--top-p",)),
    Attack("top-p-2", OPTIONS, _gen("text-run", "--top-p", "2"), says=("--top-p",)),
    Attack("top-k-0", OPTIONS, _gen("text-run", "--top-k", "0"), says=("--top-k",)),
    Attack(
        "seed-10^23",
        OPTIONS,
        _gen("text-run", "--seed", "99999999999999999999999"),
        says=("--seed",),
    ),
    Attack("seed-negative", OPTIONS, _gen("text-run", "--seed", "-1"), says=("--seed",)),
    Attack("length-0", OPTIONS, _gen("text-run", "--length", "0"), says=("--length",)),
    Attack("length-1e9", OPTIONS, _gen("text-run", "--length", "1000000000"), says=("--length",)),
    Attack(
        "eval-length-0",
        OPTIONS,
        _cmd("eval", "{text-run}", "--length", "0", "--num", "2"),
        says=("--length",),
    ),
    Attack("num-0", OPTIONS, _gen("text-run", "--num", "0"), says=("--num",)),
    Attack(
        "num-100000-to-files",
        OPTIONS,
        _cmd("generate", "{text-run}", "--num", "100000", "--length", "50", "-o", "@s.txt"),
        says=("--num",),
        check=_nothing_in,
    ),
    Attack(
        "output-in-proc",
        OPTIONS,
        _gen("text-run", "--length", "20", "-o", "/proc/x.txt"),
        says=("could not write /proc/x.txt",),
    ),
    Attack(
        "train-seed-negative",
        OPTIONS,
        _train_into("{songs}", "--seed", "-1"),
        says=("--seed",),
        check=_no_run,
    ),
    Attack(
        "train-hidden-1e9",
        OPTIONS,
        _train_into("{songs}", "--hidden-size", "1000000000"),
        says=("--hidden-size",),
        check=_no_run,
    ),
    Attack(
        "train-learning-rate-nan",
        OPTIONS,
        _train_into("{songs}", "--learning-rate", "nan"),
        says=("--learning-rate",),
        check=_no_run,
    ),
    Attack(
        "length-1e6-num-500-grows-with-use",
        OPTIONS,
        _gen("text-run", "--length", "1000000", "--num", "500", "--seed", "3"),
        expect="ok",
        check=_samples(500, 1_000_000),
    ),
    Attack(
        "length-1-is-one-character",
        OPTIONS,
        _gen("text-run", "--length", "1", "--num", "3", "--seed", "1", "--no-strict"),
        expect="ok",
        check=_samples(3, 1),
    ),
    # -- reading only regular files ------------------------------------------------------------
    Attack(
        "encode-dev-zero",
        READS,
        _cmd("encode", "/dev/zero", "--codec", "text"),
        says=("is a device",),
    ),
    Attack(
        "encode-symlink-to-dev-zero", READS, _cmd("encode", "{zero.mid}"), says=("is a device",)
    ),
    Attack("encode-named-pipe", READS, _cmd("encode", "{pipe.mid}"), says=("is a named pipe",)),
    Attack("encode-folder", READS, _cmd("encode", "{folder.mid}"), says=("is a folder",)),
    Attack(
        "decode-named-pipe",
        READS,
        _cmd("decode", "{pipe.txt}", "--codec", "text", "-o", "@d.txt"),
        says=("is a named pipe",),
        check=_nothing_in,
    ),
    Attack(
        "decode-dev-zero",
        READS,
        _cmd("decode", "/dev/zero", "--codec", "text", "-o", "@d.txt"),
        says=("is a device",),
        check=_nothing_in,
    ),
    Attack(
        "decode-stdin-from-dev-zero",
        READS,
        _cmd("decode", "-", "--codec", "text", "-o", "@d.txt"),
        says=("standard input", "holds more than"),
        stdin="/dev/zero",
        check=_nothing_in,
    ),
    Attack(
        "prime-file-dev-zero",
        READS,
        _gen("text-run", "--prime-file", "/dev/zero"),
        says=("is a device",),
    ),
    Attack(
        "prime-file-named-pipe",
        READS,
        _gen("text-run", "--prime-file", "{pipe.txt}"),
        says=("is a named pipe",),
    ),
    Attack(
        "convert-named-pipe",
        READS,
        _cmd("convert", "{pipe.abc}", "@t.mid"),
        says=("is a named pipe",),
        check=_nothing_in,
    ),
    Attack(
        "plot-named-pipe",
        READS,
        _cmd("plot", "{pipe.mid}", "-o", "@roll.png"),
        says=("is a named pipe",),
        check=_nothing_in,
    ),
    Attack("checkpoint-named-pipe", READS, _gen("pipe.safetensors"), says=("is a named pipe",)),
    Attack("checkpoint-dev-zero", READS, _gen("zero.safetensors"), says=("is a device",)),
    # -- hangs and absurd memory ------------------------------------------------------------------
    Attack(
        "plot-30000-tracks",
        HANGS,
        _cmd("plot", "{30000-tracks.mid}", "-o", "@roll.png"),
        says=("30,000 tracks",),
        check=_nothing_in,
    ),
    Attack(
        "encode-header-claims-65535-tracks",
        HANGS,
        _cmd("encode", "{claims-65535-tracks.mid}"),
        says=("65,535 tracks",),
    ),
    Attack(
        "plot-1000-tracks",
        HANGS,
        _cmd("plot", "{1000-tracks.mid}", "-o", "@roll.png"),
        expect="ok",
        check=_png,
    ),
    Attack(
        "prime-1-MB",
        HANGS,
        _gen("text-run", "--prime-file", "{prime-1mb.txt}", "--length", "20"),
        says=("prime-1mb.txt", "larger than"),
    ),
    Attack(
        "prime-90-KB-for-20-samples",
        HANGS,
        _gen("text-run", "--prime-file", "{prime-90k.txt}", "--length", "20", "--num", "20"),
        expect="ok",
        check=lambda out, result: _primed_text(result),
    ),
    Attack(
        "corpus-of-one-64-MB-paragraph",
        HANGS,
        _cmd(
            "corpus",
            "build",
            "{paragraph-64mb.txt}",
            "--codec",
            "text",
            "-o",
            "@corpus",
            "--no-progress",
        ),
        expect="ok",
        check=_corpus_of_one_paragraph(64_000_000),
        slow=True,
    ),
    Attack(
        "corpus-of-one-200-MB-paragraph",
        HANGS,
        _cmd(
            "corpus",
            "build",
            "{paragraph-200mb.txt}",
            "--codec",
            "text",
            "-o",
            "@corpus",
            "--no-progress",
        ),
        expect="ok",
        check=_corpus_of_one_paragraph(200_000_000),
        heavy=True,
        timeout=600,
    ),
    # -- train and baseline -------------------------------------------------------------------
    Attack(
        "train-corpus-nowhere",
        TRAIN,
        _train_into("/nope/songs"),
        says=("/nope/songs", "neither a file"),
        check=_no_run,
    ),
    Attack(
        "train-fails-leaves-no-run-folder",
        TRAIN,
        _train_into("{empty-source}"),
        says=("holds no",),
        check=_no_run,
    ),
    Attack(
        "baseline-malformed-run-json",
        TRAIN,
        _cmd("baseline", "{bad-json-run}"),
        says=("run.json", "not valid JSON"),
    ),
    Attack(
        "baseline-run-json-without-corpus",
        TRAIN,
        _cmd("baseline", "{no-corpus-run}"),
        says=("names no corpus",),
    ),
    # -- a full disk --------------------------------------------------------------------------
    Attack(
        "generate-o-full-disk",
        DISK,
        _gen("text-run", "--length", "30", "-o", "@s.txt"),
        says=("disk is full",),
        disk=True,
        check=_nothing_in,
    ),
    Attack(
        "generate-gp5-full-disk",
        DISK,
        _gen("tab-run", "--length", "200", "--no-strict", "-o", "@s.gp5"),
        says=("disk is full",),
        disk=True,
        check=_nothing_in,
    ),
    Attack(
        "convert-full-disk",
        DISK,
        _cmd("convert", str(PROJECT_TABS / "blue-lantern.txt"), "@b.mid", "--codec", "tab"),
        says=("disk is full",),
        disk=True,
        check=_nothing_in,
    ),
    Attack(
        "decode-full-disk",
        DISK,
        _cmd("decode", "{songs}", "--codec", "text", "-o", "@d.txt"),
        says=("disk is full",),
        disk=True,
        check=_nothing_in,
    ),
    Attack(
        "plot-full-disk",
        DISK,
        _cmd("plot", "{1000-tracks.mid}", "-o", "@roll.png"),
        says=("disk is full",),
        disk=True,
        check=_nothing_in,
    ),
    Attack(
        "corpus-build-full-disk",
        DISK,
        _cmd("corpus", "build", "{songs}", "--codec", "text", "-o", "@corpus", "--no-progress"),
        says=("disk is full",),
        disk=True,
        check=_nothing_in,
    ),
    Attack(
        "train-out-full-disk",
        DISK,
        _train_into("{songs}", "--max-steps", "4"),
        says=("disk is full",),
        disk=True,
        check=_nothing_in,
    ),
    Attack(
        "train-disk-fills-mid-run",
        DISK,
        _train_into("{text-run}/corpus", "--max-steps", "100000", "--eval-every", "5"),
        says=("disk is full", "--resume"),
        disk=True,
        fill_when="run/samples.jsonl",
        check=_resumable,
    ),
]


def _primed_text(result: Result) -> None:
    """20 samples, each the 90,000-character prime and what the model went on with."""
    pieces = [p.lstrip("\n") for p in result.stdout.removesuffix("\n").split("\n\n")]
    assert len(pieces) == 20, len(pieces)
    assert all(p.startswith("la la la") and len(p) >= 89_999 for p in pieces), [
        p[:20] for p in pieces
    ]


def attack_named(name: str) -> Attack:
    return next(a for a in ATTACKS if a.name == name)
