"""`--help` explains every option with its default, and answers without importing torch, music21
or any codec (their imports cost seconds on a loaded 2-core machine)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from rnnmusic.cli import COMMAND_HELP, build_parser

HEAVY = ("torch", "music21", "mido", "pretty_midi", "guitarpro", "numpy", "matplotlib", "tqdm")


def modules_after(*argv: str) -> list[str]:
    """The heavy packages a fresh interpreter holds after `rnnmusic ARGV` parsed its arguments."""
    code = (
        "import json, sys\n"
        "from rnnmusic.cli import main\n"
        "try:\n"
        f"    main({list(argv)!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "argv",
    [("--help",), ("--version",), ("generate", "--help"), ("eval", "--help"), ()],
    ids=["help", "version", "generate-help", "eval-help", "no-command"],
)
def test_help_imports_no_heavy_package(argv):
    assert modules_after(*argv) == []


def test_help_start_up_is_a_fraction_of_torch(tmp_path):
    """`python -X importtime` counts what start-up imports: rnnmusic's `--help` must cost well
    under a tenth of what importing torch alone costs on the same machine, whatever its load."""

    def imported_us(*args: str) -> int:
        done = subprocess.run(
            [sys.executable, "-X", "importtime", *args], capture_output=True, text=True
        )
        total = 0
        for line in done.stderr.splitlines():
            if line.startswith("import time:") and "|" in line:
                self_us = line.split("|")[0].split(":")[1].strip()
                if self_us.isdigit():
                    total += int(self_us)
        return total

    help_us = imported_us("-m", "rnnmusic", "--help")
    torch_us = imported_us("-c", "import torch")
    assert help_us < torch_us / 10, (help_us, torch_us)


def subcommand_parsers() -> dict[str, argparse.ArgumentParser]:
    """Each (sub)command's parser, built as `main` builds it for that command."""
    found = {}
    for command in COMMAND_HELP:
        parser = build_parser(command)
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        found[command] = sub.choices[command]
        if command == "corpus":
            inner = next(
                a for a in found[command]._actions if isinstance(a, argparse._SubParsersAction)
            )
            found.update({f"corpus {name}": p for name, p in inner.choices.items()})
    return found


@pytest.mark.parametrize("command", list(COMMAND_HELP) + ["corpus list", "corpus build"])
def test_every_option_says_what_it_does_and_its_default(command):
    parser = subcommand_parsers()[command]
    text = " ".join(parser.format_help().split())
    assert parser.description, command
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help, f"{command} {name} has no help"
        default = action.default
        if action.option_strings and default not in (None, False, argparse.SUPPRESS):
            shown = "on" if default is True else str(default)
            assert f"default: {shown}" in text or f"(default: {default})" in text, (command, name)


def test_top_level_help_lists_every_command_with_one_line(cli):
    result = cli("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for command, line in COMMAND_HELP.items():
        assert f"{command} {line}" in text, command


def test_codec_options_show_each_codecs_default(cli):
    result = cli("train", "--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert "--ticks-per-beat N [midi-events] grid ticks per quarter note" in text
    assert "(default: 4)" in text  # ticks per beat
    assert "[tab] tuning that MIDI and ABC melodies are fingered for (default: standard)" in text
