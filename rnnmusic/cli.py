"""The `rnnmusic` command: a thin layer over the Python API. User mistakes end with one sentence on
stderr and exit code 2; anything else is a bug and keeps its traceback."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rnnmusic import __version__
from rnnmusic.errors import RnnMusicError

EXIT_USAGE = 2
MAX_TEXT_INPUT = 64 * 1024 * 1024  # decode input; a sample is a few kilobytes


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Every option's help ends with its default, unless the default says nothing (None, off)
    or the help already explains it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if (
            not action.option_strings
            or action.default in (None, False, argparse.SUPPRESS)
            or "default" in text
        ):
            return text
        return f"{text} (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):  # one sentence, same shape as our own errors
        self.exit(EXIT_USAGE, f"rnnmusic: error: {message} (see `{self.prog} --help`)\n")


def _codec_option_args(parser: argparse.ArgumentParser) -> None:
    """Every codec's options as flags; each applies only to the codecs named in its help."""
    from rnnmusic.codecs import available_codecs, codec_class

    by_flag: dict[str, list] = {}
    for name in available_codecs():
        for opt in codec_class(name).OPTIONS:
            by_flag.setdefault(opt.flag, []).append((name, opt))
    group = parser.add_argument_group("codec options (each applies to the codecs named)")
    for flag, owners in by_flag.items():
        opt = owners[0][1]
        kwargs: dict[str, Any] = {"dest": f"codec_opt_{opt.name}", "default": None}
        if opt.type is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = opt.type
            kwargs["metavar"] = "N" if opt.type is int else opt.name.upper()
            if opt.choices:
                kwargs["choices"] = opt.choices
                kwargs.pop("metavar")
        helps = "; ".join(f"[{name}] {_option_help(o)}" for name, o in owners)
        group.add_argument(flag, help=helps.replace("%", "%%"), **kwargs)


def _option_help(opt) -> str:
    if opt.default is None or "default" in opt.help:
        return opt.help
    default = opt.default
    if opt.type is bool:
        default = "on" if default else "off"
    return f"{opt.help} (default: {default})"


def _codec_options(args: argparse.Namespace, codec_name: str) -> dict[str, Any]:
    from rnnmusic.codecs import codec_class

    own = {opt.name for opt in codec_class(codec_name).OPTIONS}
    given = {
        key[len("codec_opt_") :]: value
        for key, value in vars(args).items()
        if key.startswith("codec_opt_") and value is not None
    }
    foreign = sorted(set(given) - own)
    if foreign:
        flag = "--" + foreign[0].replace("_", "-")
        raise RnnMusicError(f"{flag} is not an option of the {codec_name} codec")
    return given


def _codec(args: argparse.Namespace, name: str | None = None):
    from rnnmusic.codecs import get_codec

    name = name or args.codec
    return get_codec(name, **_codec_options(args, name))


def codec_names() -> list[str]:
    """Built-in codecs and the names plug-ins register, without importing any codec module
    (importing them costs seconds: mido, music21, PyGuitarPro)."""
    from importlib.metadata import entry_points

    from rnnmusic.codecs import BUILTIN

    names = list(BUILTIN)
    names += [ep.name for ep in entry_points(group="rnnmusic.codecs") if ep.name not in names]
    return names


# One line each: the subcommand list of `rnnmusic --help` and the first line of its own help.
COMMAND_HELP = {
    "corpus": "list the built-in corpora, or encode files into a corpus folder",
    "encode": "print the text a music file becomes (what the model reads)",
    "decode": "turn text in a codec's notation into a music file",
    "convert": "convert a music file into another format through a codec (IN → text → OUT)",
    "train": "train a model on a corpus (built-in, a folder of files, or a corpus folder)",
    "generate": "sample new pieces from a trained model and write them as files",
    "models": "the trained models that ship with rnnmusic: generate from them by name",
    "eval": "measure a run: validation bits/char against an n-gram model, sample quality",
    "baseline": "bits/char of a character n-gram (Kneser-Ney) model on a corpus",
    "render": "synthesise music to WAV with FluidSynth (needs fluidsynth and a SoundFont)",
    "plot": "draw a run's learning curve, or a music file's piano roll (PNG)",
    "inspect": "write an HTML page of a model's predictions and cell activations",
}
# Commands whose options include every codec's settings (they import the codecs to list them).
WITH_CODEC_OPTIONS = {"corpus", "encode", "decode", "convert", "train", "render", "plot"}


def _command_in(argv: list[str]) -> str | None:
    """The subcommand named on the command line (the top level takes no option with a value)."""
    for arg in argv:
        if arg == "--":
            return None
        if not arg.startswith("-"):
            return arg
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole command line. Codec options are added only to the parser of `command` (the one
    being run), so `rnnmusic --help` and `rnnmusic generate …` never import a codec module."""
    from rnnmusic.presets import PRESETS

    codecs = codec_names()
    default_codec = "midi-events" if "midi-events" in codecs else codecs[0]
    parser = Parser(
        prog="rnnmusic",
        description="Char-RNNs that learn music as text: MIDI, ABC tunes and guitar tabs "
        "become characters, an LSTM learns to continue them, samples become files again.",
        epilog="`rnnmusic COMMAND --help` lists a command's options. "
        "`rnnmusic train` then `rnnmusic generate RUN_DIR -o song.mid` is the short way.",
    )
    parser.add_argument("--version", action="version", version=f"rnnmusic {__version__}")
    sub = parser.add_subparsers(
        dest="command", required=True, parser_class=Parser, metavar="COMMAND"
    )

    def command_parser(name: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=COMMAND_HELP[name], description=COMMAND_HELP[name])

    def codec_options(target: argparse.ArgumentParser, name: str) -> None:
        if command == name:
            _codec_option_args(target)

    corpus = command_parser("corpus")
    corpus_sub = corpus.add_subparsers(
        dest="corpus_command", required=True, parser_class=Parser, metavar="ACTION"
    )
    corpus_sub.add_parser(
        "list",
        help="the built-in corpora: files, size, licence",
        description="The built-in corpora (shipped inside installed packages, no network): "
        "files, size, licence, and which codecs read them.",
    )
    build = corpus_sub.add_parser(
        "build",
        help="encode files into a corpus folder that `train --corpus` reuses",
        description="Encode a built-in corpus, a folder or a file into a corpus folder "
        "(train.bin, valid.bin, vocab.json, corpus.json) that `train --corpus DIR` reuses. "
        "Unreadable files are skipped and counted by reason.",
    )
    build.add_argument("source", help="built-in corpus name, folder or file")
    build.add_argument("--codec", default=default_codec, choices=codecs, help="notation")
    build.add_argument("-o", "--out", required=True, help="corpus folder to write")
    build.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes (default: all cores; one for plain text, where more only add overhead)",
    )
    build.add_argument(
        "--valid-fraction",
        type=float,
        default=0.05,
        help="share of pieces held out for validation (split by piece)",
    )
    build.add_argument("--no-progress", action="store_true", help="no progress bar")
    codec_options(build, "corpus")

    encode = command_parser("encode")
    encode.add_argument("file", help="a music file (.mid, .abc, tab .txt or .gp5, …)")
    encode.add_argument(
        "--codec", default=None, choices=codecs, help="default: chosen by the file's extension"
    )
    codec_options(encode, "encode")

    decode = command_parser("decode")
    decode.add_argument("textfile", help="text file ('-' for stdin); pieces split at the separator")
    decode.add_argument("--codec", required=True, choices=codecs, help="the text's notation")
    decode.add_argument("-o", "--out", required=True, help="output; its extension picks the writer")
    codec_options(decode, "decode")

    convert = command_parser("convert")
    convert.add_argument("input", help="music file to read (.mid, .abc, tab .txt or .gp5, …)")
    convert.add_argument(
        "output", help="file to write; its extension picks the writer (.mid, .abc, .txt, .gp5)"
    )
    convert.add_argument(
        "--codec",
        default=None,
        choices=codecs,
        help="default: the first codec that reads IN's extension and writes OUT's",
    )
    codec_options(convert, "convert")

    train = command_parser("train")
    train.add_argument("--codec", default=default_codec, choices=codecs, help="notation to learn")
    train.add_argument(
        "--corpus",
        default=None,
        help="built-in name, folder, file or corpus folder (default: the codec's built-in corpus)",
    )
    train.add_argument("--out", default=None, help="run folder (default: runs/CODEC-DATE-TIME)")
    train.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue this run")
    train.add_argument(
        "--preset",
        default=None,
        choices=list(PRESETS),
        help="model size and training budget: "
        + "; ".join(f"{name} {p.about}" for name, p in PRESETS.items())
        + " (default: small on a CPU, medium on a GPU)",
    )
    train.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn"], help="RNN cell")
    for flag, kind, what in (
        ("--hidden-size", int, "units per layer"),
        ("--num-layers", int, "stacked RNN layers"),
        ("--dropout", float, "dropout between layers, in [0, 1)"),
        ("--batch-size", int, "parallel streams per step"),
        ("--seq-len", int, "characters per stream per step (truncated BPTT length)"),
        ("--learning-rate", float, "peak Adam learning rate (warm-up, then cosine decay)"),
        ("--max-steps", int, "training steps"),
        ("--eval-every", int, "steps between validations, checkpoints and samples"),
    ):
        train.add_argument(flag, type=kind, help=f"{what} (default: the preset's)")
    train.add_argument(
        "--tie-weights",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the output layer shares the embedding's weights (default: the preset's)",
    )
    train.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        help="stop and save after this many minutes, the final validation included "
        "(default: no time limit)",
    )
    train.add_argument("--seed", type=int, default=1337, help="seed for weights and batches")
    train.add_argument(
        "--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N, mps"
    )
    train.add_argument(
        "--jobs", type=int, default=None, help="corpus-building processes (default: all cores)"
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    codec_options(train, "train")

    gen = command_parser("generate")
    gen.add_argument(
        "checkpoint",
        metavar="MODEL",
        help="run folder, .safetensors, or a shipped model's name (chorales, folk, tabs: "
        "`rnnmusic models`)",
    )
    gen.add_argument(
        "-o",
        "--out",
        default=None,
        help="output file, its extension picks the writer; --num N writes OUT-1 … OUT-N "
        "(default: the text to stdout)",
    )
    gen.add_argument("--num", type=int, default=1, help="samples, drawn in one batch")
    gen.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="below 1: safer, more repetitive; above 1: wilder",
    )
    gen.add_argument(
        "--top-k", type=int, default=None, help="draw from the K likeliest characters only"
    )
    gen.add_argument(
        "--top-p",
        type=float,
        default=None,
        help="draw from the likeliest characters that together hold probability P (nucleus)",
    )
    gen.add_argument("--argmax", action="store_true", help="always take the likeliest character")
    gen.add_argument("--prime", default=None, help="text the samples start with")
    gen.add_argument("--prime-file", default=None, help="a file the codec encodes into the prime")
    gen.add_argument(
        "--seed", type=int, default=None, help="same seed, same samples (default: a fresh draw)"
    )
    gen.add_argument(
        "--length",
        type=int,
        default=None,
        help="most characters per sample (default: twice the mean training piece)",
    )
    gen.add_argument(
        "--codec",
        default=None,
        help="refuse a checkpoint of another codec (default: take the checkpoint's)",
    )
    gen.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N, mps")
    gen.add_argument("--wav", action="store_true", help="also render each sample to OUT.wav")
    gen.add_argument("--plot", action="store_true", help="also draw each sample's piano roll")
    gen.add_argument(
        "--soundfont", default=None, help="SoundFont for --wav (default: a General MIDI one)"
    )
    gen.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="mask characters the codec's grammar forbids, so every sample decodes cleanly "
        "(--no-strict samples freely)",
    )
    gen.add_argument("--no-progress", action="store_true", help="no progress bar")

    command_parser("models")

    ev = command_parser("eval")
    ev.add_argument("run", metavar="RUN_DIR", help="run folder that `train` wrote")
    ev.add_argument("--num", type=int, default=100, help="samples to judge")
    ev.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    ev.add_argument("--seed", type=int, default=1, help="seed of the samples")
    ev.add_argument(
        "--length",
        type=int,
        default=None,
        help="most characters per sample (default: the checkpoint's)",
    )
    ev.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="sample with the codec's grammar mask, as `generate` does",
    )
    ev.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N, mps")

    base = command_parser("baseline")
    base.add_argument(
        "corpus", metavar="CORPUS_DIR|RUN_DIR", help="corpus folder (or a run that used one)"
    )
    base.add_argument("--max-order", type=int, default=12, help="longest n-gram order tried")

    render = command_parser("render")
    render.add_argument("input", help=".mid as it is; .abc, tabs, … through their codec")
    render.add_argument("-o", "--out", required=True, help="WAV file (OUT-N.wav for N pieces)")
    render.add_argument(
        "--soundfont",
        default=None,
        help="a .sf2 file (default: $RNNMUSIC_SOUNDFONT, else a system General MIDI one)",
    )
    render.add_argument(
        "--codec", default=None, choices=codecs, help="default: chosen by the file's extension"
    )
    codec_options(render, "render")

    plot = command_parser("plot")
    plot.add_argument("target", metavar="RUN_DIR|FILE", help="run folder or music file")
    plot.add_argument(
        "-o", "--out", default=None, help="PNG (default: RUN_DIR/loss.png or FILE.png)"
    )
    plot.add_argument(
        "--codec", default=None, choices=codecs, help="for a FILE (default: by its extension)"
    )
    codec_options(plot, "plot")

    inspect = command_parser("inspect")
    inspect.add_argument("checkpoint", metavar="RUN_DIR|CHECKPOINT", help="run folder or file")
    inspect.add_argument(
        "--input", required=True, help="music file or text in the model's notation"
    )
    inspect.add_argument("-o", "--out", required=True, help="HTML page to write")
    inspect.add_argument(
        "--cell",
        type=int,
        default=None,
        help="colour by this cell (default: the one that tracks position best)",
    )
    inspect.add_argument("--max-chars", type=int, default=3000, help="characters of input shown")
    return parser


# -- commands -----------------------------------------------------------------------------------


def cmd_corpus_list(args) -> int:
    from rnnmusic.sources import all_sources

    for source in all_sources():
        files = source.raw_files()
        size = sum(p.stat().st_size for p in files)
        print(
            f"{source.name:<18} {'/'.join(source.codecs):<14} {len(files):>6} files "
            f"{size / 1e6:>8.1f} MB  {source.licence}\n{'':<18} {source.description}"
        )
    return 0


def cmd_corpus_build(args) -> int:
    from rnnmusic.corpus import build_corpus

    codec = _codec(args)
    corpus = build_corpus(
        args.source,
        codec,
        args.out,
        jobs=args.jobs,
        valid_fraction=args.valid_fraction,
        progress=not args.no_progress,
    )
    print(corpus.report.summary())
    print(f"corpus written to {corpus.path}")
    return 0


def _codec_for_input(args, path: str, output: str | None = None):
    from rnnmusic.codecs import codec_for_paths

    if args.codec:
        return _codec(args)
    found = codec_for_paths(path, output)
    return _codec(args, found.name)


def cmd_encode(args) -> int:
    codec = _codec_for_input(args, args.file)
    pieces = codec.encode_file(args.file)
    sys.stdout.write(codec.separator.join(pieces) + "\n")
    return 0


def _write_pieces(
    codec, texts: list[str], out: str, label: str = "piece"
) -> list[tuple[Path, Any]]:
    """Decode each text and write OUT (one) or OUT-1 … OUT-N (several); report repairs."""
    from rnnmusic.atomic_write import atomic_path, make_folder

    codec.check_output(out)
    out_path = Path(out)
    make_folder(out_path.parent)
    written = []
    for number, text in enumerate(texts, start=1):
        target = out_path
        if len(texts) > 1:
            target = out_path.with_name(f"{out_path.stem}-{number}{out_path.suffix}")
        piece = codec.decode(text)
        with atomic_path(target) as tmp:  # a full disk leaves no empty or half-written file
            codec.write(piece, tmp)
        note = ""
        if piece.repairs:
            shown = "; ".join(piece.repairs[:3]) + (" …" if len(piece.repairs) > 3 else "")
            note = f" ({len(piece.repairs)} repairs: {shown})"
        print(f"wrote {target}{note}")
        written.append((target, piece))
    return written


def cmd_decode(args) -> int:
    from rnnmusic.bounded_read import read_utf8

    codec = _codec(args)
    text = read_utf8(args.textfile, MAX_TEXT_INPUT, "codec text")
    pieces = codec.split_pieces(text.replace("\r\n", "\n")) or [text]
    _write_pieces(codec, pieces, args.out)
    return 0


def cmd_convert(args) -> int:
    codec = _codec_for_input(args, args.input, args.output)
    codec.check_output(args.output)
    pieces = codec.encode_file(args.input)
    for line in codec.describe_input(args.input):
        print(f"{args.input}: {line}")
    _write_pieces(codec, pieces, args.output)
    for left_out in getattr(pieces, "left_out", ()):
        print(f"left out {left_out}", file=sys.stderr)
    return 0


def cmd_train(args) -> int:
    from rnnmusic.train import TrainConfig, fit

    options = {}
    if args.resume is None:
        options = _codec_options(args, args.codec)
    config = TrainConfig(
        codec=args.codec,
        codec_options=options,
        corpus=args.corpus,
        out=args.out,
        preset=args.preset,
        cell=args.cell,
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
        dropout=args.dropout,
        tie_weights=args.tie_weights,
        batch_size=args.batch_size,
        seq_len=args.seq_len,
        learning_rate=args.learning_rate,
        max_steps=args.max_steps,
        eval_every=args.eval_every,
        max_minutes=args.max_minutes,
        seed=args.seed,
        device=args.device,
        jobs=args.jobs,
        progress=not args.no_progress,
    )
    result = fit(config, resume=args.resume)
    from rnnmusic.codecs import codec_class

    writes = codec_class(result.codec).writes
    ext = writes[0] if writes else ".txt"
    how = {"max_steps": "finished", "max_minutes": "time limit reached", "interrupted": "stopped"}
    print(
        f"{how[result.stopped]} at step {result.step}: best validation "
        f"{result.best_val_bpc:.3f} bits/char\n"
        f"checkpoints: {result.run_dir}/best.safetensors, {result.run_dir}/last.safetensors\n"
        f"next: rnnmusic generate {result.run_dir} -o sample{ext} --num 3"
    )
    if result.stopped != "max_steps":
        print(f"continue: rnnmusic train --resume {result.run_dir}")
    return 130 if result.stopped == "interrupted" else 0


def cmd_generate(args) -> int:
    from rnnmusic.checkpoint import load_checkpoint
    from rnnmusic.models import resolve_model
    from rnnmusic.sample import SampleConfig

    ckpt = load_checkpoint(resolve_model(args.checkpoint))
    if args.codec and args.codec != ckpt.codec_name:
        raise RnnMusicError(
            f"{ckpt.path} was trained with the {ckpt.codec_name} codec, not {args.codec}; "
            f"generate without --codec or use a {args.codec} checkpoint"
        )
    codec = ckpt.codec()
    if args.wav or args.plot:
        from rnnmusic.sample_media import check_media_possible

        if args.out is None:
            raise RnnMusicError("--wav and --plot write next to the sample files; give -o OUT")
        check_media_possible(codec, args.wav, args.plot, args.soundfont)
    prime = args.prime
    if args.prime_file is not None:
        if prime is not None:
            raise RnnMusicError("give --prime or --prime-file, not both")
        prime = _prime_from_file(codec, args.prime_file)
    config = SampleConfig(
        num=args.num,
        length=ckpt.sample_length(args.length),
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        argmax=args.argmax,
        prime=prime,
        seed=args.seed,
        strict=args.strict,
    )
    texts = _sample_with_progress(ckpt, config, args)
    texts = _without_empty_samples(texts)
    if args.out is None:
        sys.stdout.write(codec.separator.join(texts) + "\n")
        return 0
    written = _write_pieces(codec, texts, args.out)
    if args.wav or args.plot:
        from rnnmusic.sample_media import write_media

        write_media(codec, written, args.wav, args.plot, args.soundfont)
    return 0


def cmd_models(args) -> int:
    from rnnmusic.models import describe, shipped_models

    models = shipped_models()
    if not models:
        print("this installation ships no trained models; train one with `rnnmusic train`")
        return 0
    print("\n\n".join(describe(model) for model in models.values()))
    return 0


def _without_empty_samples(samples) -> list[str]:
    """Say how many samples were drawn again for holding no notes, and leave out any that
    still hold none: an empty file is not a sample of music."""
    from rnnmusic.sample import MAX_DRAWS

    redrawn, empty = getattr(samples, "redrawn", 0), getattr(samples, "empty", [])
    if redrawn:
        print(
            f"drew {redrawn} sample{'s' if redrawn > 1 else ''} again: "
            f"{'they' if redrawn > 1 else 'it'} held no notes",
            file=sys.stderr,
        )
    if empty and len(empty) == len(samples):
        raise RnnMusicError(
            f"none of the {len(samples)} samples held a note after {MAX_DRAWS} draws; train "
            "the model longer or sample with a lower --temperature"
        )
    if empty:
        print(
            f"left out {len(empty)} sample{'s' if len(empty) > 1 else ''} that still held no "
            "notes; train the model longer or sample with a lower --temperature",
            file=sys.stderr,
        )
    return [text for i, text in enumerate(samples) if i not in set(empty)]


def _sample_with_progress(ckpt, config, args) -> list[str]:
    """Sampling can take minutes (one step per character): a bar on stderr once it takes more
    than a second, counting characters up to the --length cap."""
    from rnnmusic.progress import progress_bar
    from rnnmusic.sample import generate

    pieces = f"{config.num} piece{'s' if config.num > 1 else ''}"
    bar = progress_bar(
        config.length, f"sampling {pieces}", "char", enabled=not args.no_progress, delay=1.0
    )
    try:
        texts = generate(
            ckpt, config, device=args.device, progress=lambda steps: bar.update(steps - bar.n)
        )
        bar.total = bar.n  # every piece ended before the cap: the bar ends full
        return texts
    finally:
        bar.close()


def _midi_codec(args, path: str):
    """None for a MIDI file taken as it is; else the codec that turns the input into MIDI."""
    from rnnmusic.midi_input import MIDI_EXTENSIONS

    if args.codec is None and Path(path).suffix.lower() in MIDI_EXTENSIONS:
        return None
    return _codec_for_input(args, path, "x.mid")


def cmd_render(args) -> int:
    from rnnmusic.errors import CodecError
    from rnnmusic.midi_input import count_notes, midi_parts, numbered_path, read_midi
    from rnnmusic.render import check_wav_output, find_soundfont, fluidsynth_program, render_midi

    check_wav_output(args.out)
    with midi_parts(args.input, _midi_codec(args, args.input)) as parts:
        for part in parts:  # what is wrong with the input first, then what is missing here
            if count_notes(read_midi(part.midi)) == 0:
                where = args.input if part.total == 1 else f"{args.input} (piece {part.number})"
                raise CodecError(where, "has no notes, so there is nothing to hear")
        fluidsynth_program()
        find_soundfont(args.soundfont)
        for part in parts:
            target = numbered_path(args.out, part.number, part.total)
            done = render_midi(part.midi, target, args.soundfont)
            print(f"wrote {target} ({done.seconds:.1f} s)")
    return 0


def cmd_plot(args) -> int:
    from rnnmusic.midi_input import midi_parts, numbered_path
    from rnnmusic.plots import loss_curve, piano_roll

    target = Path(args.target)
    if target.is_dir():
        out = Path(args.out) if args.out else target / "loss.png"
        loss_curve(target, out)
        print(f"wrote {out}")
        return 0
    if not target.exists():
        raise RnnMusicError(f"{target} does not exist; give a run folder or a music file")
    out = Path(args.out) if args.out else target.with_suffix(".png")
    with midi_parts(target, _midi_codec(args, args.target)) as parts:
        for part in parts:
            png = numbered_path(out, part.number, part.total)
            label = target.name if part.total == 1 else f"{target.name}, piece {part.number}"
            piano_roll(part.midi, png, title=label)
            print(f"wrote {png}")
    return 0


def cmd_inspect(args) -> int:
    from rnnmusic.inspect_page import inspect_run

    result = inspect_run(
        args.checkpoint, args.input, args.out, cell=args.cell, max_chars=args.max_chars
    )
    shown = f"{result.characters:,} characters"
    if result.truncated_from:
        shown += f" (of {result.truncated_from:,}; --max-chars shows more)"
    print(
        f"wrote {result.page}: {shown} coloured by cell {result.cell}, "
        f"{len(result.listed)} cells that track position, {result.samples} training samples"
    )
    return 0


def _prime_from_file(codec, path: str) -> str:
    from rnnmusic.bounded_read import read_utf8
    from rnnmusic.sample import MAX_PRIME

    if Path(path).suffix.lower() in codec.extensions and codec.name != "text":
        pieces = codec.encode_file(path)
        return pieces[0]
    return read_utf8(path, 4 * MAX_PRIME, "a prime file")  # UTF-8: up to 4 bytes a character


def cmd_eval(args) -> int:
    from rnnmusic.evaluate import EvalConfig, format_report, run_eval

    config = EvalConfig(
        num=args.num,
        temperature=args.temperature,
        strict=args.strict,
        seed=args.seed,
        device=args.device,
        length=args.length,
    )
    result = run_eval(args.run, config, progress=lambda msg: print(msg, file=sys.stderr))
    print(format_report(result))
    return 0


def cmd_baseline(args) -> int:
    from rnnmusic.corpus import Corpus, is_corpus_dir
    from rnnmusic.evaluate import corpus_baseline
    from rnnmusic.rundir import run_corpus_path

    path = Path(args.corpus)
    if not is_corpus_dir(path) and (path / "run.json").exists():
        path = run_corpus_path(path)
    if args.max_order < 1:
        raise RnnMusicError("--max-order must be at least 1")
    corpus = Corpus.load(path)
    result = corpus_baseline(corpus, args.max_order)
    for order, bpc in result.bpc_by_order.items():
        mark = "  ← best" if order == result.best_order else ""
        print(f"order {order:>2}: {bpc:.3f} bits/char{mark}")
    print(
        f"Kneser-Ney {result.best_order}-gram: {result.best_bpc:.3f} bits/char on "
        f"{result.valid_chars:,} validation characters ({result.train_chars:,} training)"
    )
    return 0


COMMANDS = {
    ("eval", None): cmd_eval,
    ("baseline", None): cmd_baseline,
    ("corpus", "list"): cmd_corpus_list,
    ("corpus", "build"): cmd_corpus_build,
    ("encode", None): cmd_encode,
    ("decode", None): cmd_decode,
    ("convert", None): cmd_convert,
    ("train", None): cmd_train,
    ("generate", None): cmd_generate,
    ("models", None): cmd_models,
    ("render", None): cmd_render,
    ("plot", None): cmd_plot,
    ("inspect", None): cmd_inspect,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command_in(argv))
    args = parser.parse_args(argv)
    handler = COMMANDS[(args.command, getattr(args, "corpus_command", None))]
    try:
        return handler(args)
    except RnnMusicError as exc:
        print(f"rnnmusic: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("rnnmusic: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a write that did not go through atomic_write: still one sentence
        from rnnmusic.atomic_write import DISK_ERRNOS, reason

        if exc.errno not in DISK_ERRNOS:
            raise
        where = f" writing {exc.filename}" if exc.filename else ""
        print(f"rnnmusic: error: {reason(exc)}{where}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
