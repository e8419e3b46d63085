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


class Parser(argparse.ArgumentParser):
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
        helps = "; ".join(f"[{name}] {o.help}" for name, o in owners)
        group.add_argument(flag, help=helps, **kwargs)


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


def build_parser() -> argparse.ArgumentParser:
    from rnnmusic.codecs import available_codecs
    from rnnmusic.model import PRESETS

    codecs = available_codecs()
    default_codec = "midi-events" if "midi-events" in codecs else codecs[0]
    parser = Parser(prog="rnnmusic", description="Char-RNNs that learn music as text.")
    parser.add_argument("--version", action="version", version=f"rnnmusic {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    corpus = sub.add_parser("corpus", help="list or build corpora")
    corpus_sub = corpus.add_subparsers(dest="corpus_command", required=True, parser_class=Parser)
    corpus_sub.add_parser("list", help="built-in corpora, sizes and licences")
    build = corpus_sub.add_parser("build", help="encode files into a corpus folder")
    build.add_argument("source", help="built-in corpus name, folder or file")
    build.add_argument("--codec", default=default_codec, choices=codecs)
    build.add_argument("-o", "--out", required=True, help="corpus folder to write")
    build.add_argument(
        "--jobs",
        type=int,
        default=None,
        help="worker processes (default: all cores; one for plain text, where more only add overhead)",
    )
    build.add_argument("--valid-fraction", type=float, default=0.05)
    build.add_argument("--no-progress", action="store_true")
    _codec_option_args(build)

    encode = sub.add_parser("encode", help="print the text of each piece in a file")
    encode.add_argument("file")
    encode.add_argument("--codec", default=None, choices=codecs, help="default: by extension")
    _codec_option_args(encode)

    decode = sub.add_parser("decode", help="turn codec text into a file")
    decode.add_argument("textfile", help="text file ('-' for stdin); pieces split at the separator")
    decode.add_argument("--codec", required=True, choices=codecs)
    decode.add_argument("-o", "--out", required=True, help="output; its extension picks the writer")
    _codec_option_args(decode)

    convert = sub.add_parser("convert", help="IN → text → OUT (codec chosen by the extensions)")
    convert.add_argument("input")
    convert.add_argument("output")
    convert.add_argument("--codec", default=None, choices=codecs)
    _codec_option_args(convert)

    train = sub.add_parser("train", help="train a model")
    train.add_argument("--codec", default=default_codec, choices=codecs)
    train.add_argument(
        "--corpus", default=None, help="built-in name, folder, file or corpus folder"
    )
    train.add_argument("--out", default=None, help="run folder (default runs/CODEC-DATE-TIME)")
    train.add_argument("--resume", default=None, metavar="RUN_DIR", help="continue this run")
    train.add_argument(
        "--preset",
        default=None,
        choices=list(PRESETS),
        help="model size and training budget (default: small on a CPU, medium on a GPU)",
    )
    train.add_argument("--cell", default="lstm", choices=["lstm", "gru", "rnn"])
    train.add_argument("--hidden-size", type=int)
    train.add_argument("--num-layers", type=int)
    train.add_argument("--dropout", type=float)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--seq-len", type=int)
    train.add_argument("--learning-rate", type=float)
    train.add_argument("--max-steps", type=int)
    train.add_argument("--max-minutes", type=float)
    train.add_argument("--eval-every", type=int)
    train.add_argument("--seed", type=int, default=1337)
    train.add_argument("--device", default="auto", help="auto (cuda, mps, cpu), cpu, cuda, cuda:N")
    train.add_argument("--jobs", type=int, default=None, help="corpus-building processes")
    train.add_argument("--no-progress", action="store_true")
    _codec_option_args(train)

    gen = sub.add_parser("generate", help="sample new pieces from a trained model")
    gen.add_argument("checkpoint", metavar="RUN_DIR|CHECKPOINT")
    gen.add_argument("-o", "--out", default=None, help="output file; --num N writes OUT-1 … OUT-N")
    gen.add_argument("--num", type=int, default=1)
    gen.add_argument("--temperature", type=float, default=1.0)
    gen.add_argument("--top-k", type=int, default=None)
    gen.add_argument("--top-p", type=float, default=None)
    gen.add_argument("--argmax", action="store_true", help="always take the likeliest character")
    gen.add_argument("--prime", default=None, help="text the samples start with")
    gen.add_argument("--prime-file", default=None, help="a file the codec encodes into the prime")
    gen.add_argument("--seed", type=int, default=None)
    gen.add_argument("--length", type=int, default=None, help="most characters per sample")
    gen.add_argument("--codec", default=None, help="refuse a checkpoint of another codec")
    gen.add_argument("--device", default="auto")
    gen.add_argument("--wav", action="store_true", help="also render each sample to OUT.wav")
    gen.add_argument("--plot", action="store_true", help="also draw each sample's piano roll")
    gen.add_argument("--soundfont", default=None, help="SoundFont for --wav (default: GM)")
    gen.add_argument(
        "--strict",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="mask characters the codec's grammar forbids, so every sample decodes cleanly "
        "(default on; --no-strict samples freely)",
    )

    ev = sub.add_parser("eval", help="validation bits/char vs. n-gram baseline, sample quality")
    ev.add_argument("run", metavar="RUN_DIR")
    ev.add_argument("--num", type=int, default=100)
    ev.add_argument("--temperature", type=float, default=1.0)
    ev.add_argument("--seed", type=int, default=1)
    ev.add_argument("--length", type=int, default=None)
    ev.add_argument("--strict", action=argparse.BooleanOptionalAction, default=True)
    ev.add_argument("--device", default="auto")

    base = sub.add_parser("baseline", help="character n-gram (Kneser-Ney) bits/char on a corpus")
    base.add_argument("corpus", metavar="CORPUS_DIR|RUN_DIR")
    base.add_argument("--max-order", type=int, default=12)

    render = sub.add_parser("render", help="synthesise a music file to WAV with FluidSynth")
    render.add_argument("input", help=".mid as it is; .abc, tabs, … through their codec")
    render.add_argument("-o", "--out", required=True, help="WAV file (OUT-N.wav for N pieces)")
    render.add_argument("--soundfont", default=None, help="a .sf2 file (default: General MIDI)")
    render.add_argument("--codec", default=None, choices=codecs, help="default: by extension")
    _codec_option_args(render)

    plot = sub.add_parser("plot", help="learning curve of a run, or piano roll of a music file")
    plot.add_argument("target", metavar="RUN_DIR|FILE")
    plot.add_argument("-o", "--out", default=None, help="PNG (default RUN_DIR/loss.png, FILE.png)")
    plot.add_argument("--codec", default=None, choices=codecs, help="for a FILE: by extension")
    _codec_option_args(plot)

    inspect = sub.add_parser("inspect", help="HTML page: predictions and cell activations")
    inspect.add_argument("checkpoint", metavar="RUN_DIR|CHECKPOINT")
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
    from rnnmusic.corpus import BuildReport, build_corpus

    codec = _codec(args)
    corpus = build_corpus(
        args.source,
        codec,
        args.out,
        jobs=args.jobs,
        valid_fraction=args.valid_fraction,
        progress=not args.no_progress,
    )
    print(BuildReport(**corpus.meta["report"]).summary())
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
    _write_pieces(codec, pieces, args.output)
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
    from rnnmusic.sample import SampleConfig, generate

    ckpt = load_checkpoint(args.checkpoint)
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
    length = args.length
    if length is None:
        length = ckpt.meta.get("default_sample_length", 2000)
    config = SampleConfig(
        num=args.num,
        length=length,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        argmax=args.argmax,
        prime=prime,
        seed=args.seed,
        strict=args.strict,
    )
    texts = generate(ckpt, config, device=args.device)
    if args.out is None:
        sys.stdout.write(codec.separator.join(texts) + "\n")
        return 0
    written = _write_pieces(codec, texts, args.out)
    if args.wav or args.plot:
        from rnnmusic.sample_media import write_media

        write_media(codec, written, args.wav, args.plot, args.soundfont)
    return 0


def _midi_codec(args, path: str):
    """None for a MIDI file taken as it is; else the codec that turns the input into MIDI."""
    from rnnmusic.midi_input import MIDI_EXTENSIONS

    if args.codec is None and Path(path).suffix.lower() in MIDI_EXTENSIONS:
        return None
    return _codec_for_input(args, path, "x.mid")


def cmd_render(args) -> int:
    from rnnmusic.midi_input import midi_parts, numbered_path
    from rnnmusic.render import check_wav_output, find_soundfont, fluidsynth_program, render_midi

    check_wav_output(args.out)
    fluidsynth_program()
    find_soundfont(args.soundfont)
    with midi_parts(args.input, _midi_codec(args, args.input)) as parts:
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
    ("render", None): cmd_render,
    ("plot", None): cmd_plot,
    ("inspect", None): cmd_inspect,
}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
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
