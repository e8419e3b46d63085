"""The models that ship with rnnmusic: how each is trained, packaged and measured.

    python benchmarks/shipped_models.py train NAME [--out DIR] [--max-minutes M]   (resumes DIR)
    python benchmarks/shipped_models.py package NAME RUN_DIR [--corpus-dir DIR] [--float32]
    python benchmarks/shipped_models.py profile NAME [--corpus-dir DIR]
    python benchmarks/shipped_models.py quality [--num 100] [--corpus-dir-for NAME=DIR ...]

`train` runs the exact command recorded for the model (printed first), `package` copies the
run's best checkpoint into rnnmusic/pretrained/ and records its figures in the registry,
`profile` works out a shipped model's corpus profile again (after a codec learns a new fact
about its training pieces; the weights stay as they are), and
`quality` writes the `shipped_models` section of BENCHMARKS.md: `rnnmusic eval --strict` on
each shipped model (100 samples, temperature 1.0), next to the training pieces.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import machine, table, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# name → what it is, and the settings it was trained with (the rest are `train`'s defaults)
SHIPPED = {
    "chorales": dict(
        codec="midi-events",
        corpus="bach-chorales",
        about="four-part chorales in the style of J. S. Bach (MIDI)",
        example="chorale.mid",
        args=[
            "--hidden-size", "256", "--num-layers", "2", "--dropout", "0.3",
            "--batch-size", "32", "--seq-len", "100", "--learning-rate", "2e-3",
            "--max-steps", "8000", "--eval-every", "250", "--no-tie-weights",
        ],
    ),
    "folk": dict(
        codec="abc",
        corpus="folk-abc",
        about="folk tunes in ABC notation: jigs, reels, airs (O'Neill's, Ryan's, Nottingham, …)",
        example="tune.abc",
        args=[
            "--hidden-size", "256", "--num-layers", "2", "--dropout", "0.2",
            "--batch-size", "50", "--seq-len", "100", "--learning-rate", "2e-3",
            "--max-steps", "8200", "--eval-every", "250", "--tie-weights",
        ],
    ),
    "tabs": dict(
        codec="tab",
        corpus="folk-tabs",
        about="folk melodies fingered for guitar: ASCII tab and Guitar Pro",
        example="riff.gp5",
        args=[
            "--hidden-size", "256", "--num-layers", "2", "--dropout", "0.2",
            "--batch-size", "50", "--seq-len", "100", "--learning-rate", "2e-3",
            "--max-steps", "8200", "--eval-every", "250", "--tie-weights",
        ],
    ),
}  # fmt: skip


def train_command(name: str, out: str) -> list[str]:
    spec = SHIPPED[name]
    return [
        "rnnmusic", "train", "--codec", spec["codec"], "--corpus", spec["corpus"],
        "--out", out, *spec["args"],
    ]  # fmt: skip


def cmd_train(args) -> None:
    out = args.out or f"runs/ship-{args.name}"
    command = train_command(args.name, out)
    if (Path(out) / "last.safetensors").exists():
        command = ["rnnmusic", "train", "--resume", out]
    if args.max_minutes:
        command += ["--max-minutes", str(args.max_minutes)]
    print(shlex.join(command), flush=True)
    subprocess.run([sys.executable, "-m", "rnnmusic", *command[1:]], check=True)


def built_corpus(name: str, corpus_dir: str | None):
    """The model's built-in corpus (built once into the cache), or the same corpus built
    beforehand with `rnnmusic corpus build` (its codec settings are checked)."""
    from rnnmusic.codecs import get_codec
    from rnnmusic.rundir import prepare_corpus

    spec = SHIPPED[name]
    with tempfile.TemporaryDirectory() as tmp:
        return prepare_corpus(
            corpus_dir or spec["corpus"], get_codec(spec["codec"]), Path(tmp), None, False
        )


def run_totals(run_dir: Path) -> tuple[int, int, float]:
    """Steps, characters and hours of the whole run (its last checkpoint)."""
    from rnnmusic.checkpoint import load_checkpoint

    info = load_checkpoint(run_dir / "last.safetensors").info
    tokens = info.step * info.train.batch_size * info.train.seq_len
    return info.step, tokens, info.elapsed_s / 3600


def cmd_package(args) -> None:
    import torch

    from rnnmusic.batches import validation_loss
    from rnnmusic.checkpoint import load_checkpoint
    from rnnmusic.evaluate import corpus_baseline
    from rnnmusic.models import ShippedModel, register, write_weights
    from rnnmusic.train import LN2

    spec, run_dir = SHIPPED[args.name], Path(args.run_dir)
    corpus = built_corpus(args.name, args.corpus_dir)
    corpus.meta.pop("profile", None)  # worked out again: the facts strict sampling reads today
    path = write_weights(run_dir, args.name, half=not args.float32, profile=corpus.profile)
    ckpt = load_checkpoint(path)
    train = ckpt.info.train
    valid = corpus.tokens("valid")

    def bpc(net) -> float:
        cpu = torch.device("cpu")
        return validation_loss(net, valid, train.batch_size, train.seq_len, cpu) / LN2

    shipped_bpc = bpc(ckpt.model())
    run_bpc = bpc(load_checkpoint(run_dir / "best.safetensors").model())
    steps, tokens, hours = run_totals(run_dir)
    model = ckpt.model()
    mc = ckpt.info.model
    card = {
        "architecture": f"{mc.num_layers}×{mc.hidden_size} {mc.cell.upper()}",
        "parameters": model.num_parameters(),
        "valid_bpc": shipped_bpc,
        "valid_bpc_float32": run_bpc,
        "ngram_bpc": corpus_baseline(corpus).best_bpc,
        "steps": steps,
        "best_step": ckpt.info.step,
        "tokens": tokens,
        "train_hours": hours,
        "trained_on": args.trained_on,
        "command": shlex.join(train_command(args.name, f"runs/ship-{args.name}")),
        "weights": "float32" if args.float32 else "float16",
    }
    register(
        ShippedModel(
            args.name,
            path.name,
            spec["codec"],
            spec["corpus"],
            spec["about"],
            spec["example"],
            card,
        )
    )
    print(json.dumps(card, indent=1))


def cmd_profile(args) -> None:
    from rnnmusic.checkpoint import load_checkpoint, save_checkpoint
    from rnnmusic.models import PRETRAINED_DIR

    corpus = built_corpus(args.name, args.corpus_dir)
    corpus.meta.pop("profile", None)  # worked out again: the facts strict sampling reads today
    path = PRETRAINED_DIR / f"{args.name}.safetensors"
    ckpt = load_checkpoint(path)
    meta = {k: v for k, v in ckpt.meta.items() if k not in ("checksum", "format", "format_version")}
    meta["profile"] = corpus.profile.to_dict()
    save_checkpoint(path, ckpt.tensors, meta)
    print(f"{path}: profile of {corpus.profile.pieces} pieces")


@contextlib.contextmanager
def evaluable(name: str, corpus_dir: str | None):
    """A copy of the shipped checkpoint that names its corpus, so `rnnmusic eval` can score it
    (shipped files leave out the training machine's corpus path)."""
    from rnnmusic.checkpoint import load_checkpoint, save_checkpoint
    from rnnmusic.models import shipped_models

    corpus = built_corpus(name, corpus_dir)
    ckpt = load_checkpoint(shipped_models()[name].path)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / name
        run.mkdir()
        meta = {**ckpt.meta, "corpus_path": str(corpus.path)}
        save_checkpoint(run / "best.safetensors", ckpt.tensors, meta)
        yield run


def cmd_quality(args) -> None:
    from rnnmusic.models import shipped_models

    corpus_dirs = dict(item.split("=", 1) for item in args.corpus_dir_for)
    sections = []
    models = shipped_models()
    for name, model in models.items():
        with evaluable(name, corpus_dirs.get(name)) as run:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "rnnmusic",
                    "eval",
                    str(run),
                    "--num",
                    str(args.num),
                    "--strict",
                ],
                check=True,
            )
            result = json.loads((run / "eval.json").read_text())
        card = model.card
        summary = table(
            ["", "value"],
            [
                ["trained", f"{card['steps']:,} steps, {card['tokens'] / 1e6:.0f} M characters, {card['train_hours']:.1f} h ({card['trained_on']})"],
                ["command", f"`{card['command']}`"],
                ["model", f"{card['architecture']}, {card['parameters']:,} parameters, {card['weights']} weights of step {card['best_step']:,}, {model.path.stat().st_size / 1e6:.1f} MB"],
                ["validation bits/char (whole split)", f"{result['valid_bpc']:.3f}"],
                ["Kneser-Ney n-gram bits/char", f"{result['ngram_bpc']:.3f} (order {result['ngram_order']}); ratio {result['valid_bpc'] / result['ngram_bpc']:.2f}"],
                ["strict samples decoded with zero repairs", f"{result['samples_clean']} / {result['samples']}"],
                ["32-character windows found in the training text", f"{result['copy_rate_32']:.1%}" if result["copy_rate_32"] is not None else "–"],
                ["sampling speed (100 at once, strict)", f"{result['sampling_chars_per_s']:,.0f} characters/s"],
            ],
        )  # fmt: skip
        samples, training = result["stats"]["samples"], result["stats"]["training"]
        rows = [
            [key, f"{samples[key]:.2f}" if key in samples else "–", f"{training[key]:.2f}" if key in training else "–"]
            for key in sorted(set(samples) | set(training))
        ]  # fmt: skip
        sections.append(
            f"### `{name}`: {model.about}\n\n`rnnmusic generate {name} -o {model.example}`\n\n"
            + summary
            + f"\n\nMusic statistics, mean per piece: {result['samples']} strict samples "
            "next to as many training pieces:\n\n"
            + table(["statistic", "samples", "training pieces"], rows)
        )
    body = "\n\n".join(
        [
            "## Shipped models (`benchmarks/shipped_models.py`)",
            f"Machine: {machine()}. Each model was trained by this project's `rnnmusic train` "
            "with the command shown (on the built corpus of that built-in source), its best "
            "checkpoint packaged by `benchmarks/shipped_models.py package`. Figures below are "
            "`rnnmusic eval --strict --num 100` on the shipped file; `abc2midi_clean` is the "
            "share of pieces abc2midi plays without an error or warning.",
            *sections,
        ]
    )
    if not args.no_write:
        write_section("shipped_models", body)
    print(body)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("train")
    p.add_argument("name", choices=sorted(SHIPPED))
    p.add_argument("--out", default=None)
    p.add_argument("--max-minutes", type=float, default=None)
    p = sub.add_parser("package")
    p.add_argument("name", choices=sorted(SHIPPED))
    p.add_argument("run_dir")
    p.add_argument("--corpus-dir", default=None, help="the model's corpus, built beforehand")
    p.add_argument("--trained-on", default="2 shared CPU cores, one math thread")
    p.add_argument("--float32", action="store_true", help="keep float32 weights")
    p = sub.add_parser("profile")
    p.add_argument("name", choices=sorted(SHIPPED))
    p.add_argument("--corpus-dir", default=None, help="the model's corpus, built beforehand")
    p = sub.add_parser("quality")
    p.add_argument("--num", type=int, default=100)
    p.add_argument("--corpus-dir-for", action="append", default=[], metavar="NAME=DIR")
    p.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    commands = {"train": cmd_train, "package": cmd_package, "profile": cmd_profile}
    commands["quality"] = cmd_quality
    commands[args.command](args)


if __name__ == "__main__":
    main()
