"""The hostile suite from outside: every attack of issue 18 run as a user runs it, one
`rnnmusic` process each, and every hostile file given to every reader; how many hold.

An attack holds when the command ends with one sentence on stderr and exit 2, or exit 0 and
correct output, within 10 s of CPU and 1 GB peak resident memory (the process's own, Python and
torch included), leaving no empty or temporary file. Processes run under a 4 GB address-space
limit, so a regression fails instead of exhausting the machine. Full-disk attacks mount a
512 KB tmpfs and need root.

    python benchmarks/hostile.py [--no-files] [--no-heavy] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "tests"))
from hostile_commands import (  # noqa: E402
    ATTACKS,
    Attack,
    Result,
    build_workspace,
    can_mount,
    fill_when_it_appears,
    judge,
    small_disk,
)
from report import machine, table, write_section  # noqa: E402

ADDRESS_SPACE = 4 * 1024**3


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_outside(argv: list[str], stdin: str | None, timeout: float) -> tuple[Result, float]:
    """(result with CPU seconds, wall seconds) of `python -m rnnmusic ARGV` in its own process."""
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    started = time.monotonic()
    with (
        open(stdin or os.devnull, "rb") as source,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        proc = subprocess.Popen(
            [sys.executable, "-m", "rnnmusic", *argv],
            stdin=source,
            stdout=out,
            stderr=err,
            env=env,
            preexec_fn=_limit,
        )
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        text_out = out.read().decode("utf-8", "replace")
        text_err = err.read().decode("utf-8", "replace")
    if wall > timeout:
        text_err += f"\n(killed after {timeout:.0f} s)"
    cpu = usage.ru_utime + usage.ru_stime
    return Result(proc.returncode, text_out, text_err, cpu, usage.ru_maxrss * 1024), wall


def run_attack(attack: Attack, ws, scratch: Path) -> tuple[list[str], Result, float]:
    if attack.disk:
        why = can_mount()
        if why:
            return [f"skipped: {why}"], Result(0, "", "", 0.0, 0), 0.0
        with small_disk(scratch / attack.name, full=attack.fill_when is None) as out:
            watcher = (
                fill_when_it_appears(out / attack.fill_when, out) if attack.fill_when else None
            )
            result, wall = run_outside(attack.argv(ws, out), attack.stdin, attack.timeout)
            if watcher is not None:
                watcher.join(timeout=5)
            return judge(attack, out, result), result, wall
    out = ws.scratch(attack.name)
    result, wall = run_outside(attack.argv(ws, out), attack.stdin, attack.timeout)
    return judge(attack, out, result), result, wall


def hostile_files() -> tuple[int, int, list[str]]:
    """The hostile-file cases of tests/test_hostile.py, read in this process."""
    from hostile_files import READERS, hostile_cases, write_case
    from reader_checks import CPU_SECONDS, PEAK_BYTES, read_bounded

    from rnnmusic.errors import CodecError

    total = held = 0
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for reader in READERS:
            for case in hostile_cases(reader):
                if reader.name in case.pending:
                    continue
                total += 1
                path = write_case(reader, case, Path(tmp))
                try:
                    outcome, seconds, peak = read_bounded(reader, path, case.memory)
                except Exception as exc:  # the crash the suite exists to find
                    failures.append(f"{reader.name}:{case.name}: {type(exc).__name__}")
                    continue
                refused = isinstance(outcome, CodecError)
                wrong = (case.expect == "read" and refused) or (
                    case.expect == "error" and not refused
                )
                if wrong or seconds > CPU_SECONDS or peak > PEAK_BYTES:
                    failures.append(f"{reader.name}:{case.name}")
                else:
                    held += 1
    return total, held, failures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-files", action="store_true", help="skip the hostile-file readers")
    parser.add_argument("--no-heavy", action="store_true", help="skip the 200 MB paragraph")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    attacks = [a for a in ATTACKS if not (a.heavy and args.no_heavy)]
    rows, failures, skipped = [], [], []
    load = os.getloadavg()[0]
    by_group: dict[str, list[tuple[bool, float, float, int]]] = {}
    with tempfile.TemporaryDirectory(prefix="rnnmusic-hostile-") as tmp:
        ws = build_workspace(Path(tmp) / "ws")
        for attack in attacks:
            problems, result, wall = run_attack(attack, ws, Path(tmp) / "disks")
            if problems and problems[0].startswith("skipped"):
                skipped.append(attack.name)
                continue
            held = not problems
            by_group.setdefault(attack.group, []).append(
                (held, result.seconds, wall, result.peak_bytes)
            )
            if not held:
                failures.append(f"{attack.name}: {'; '.join(problems)[:200]}")
            print(
                f"{'held' if held else 'FAILED':<6} {attack.name:<40} {result.seconds:5.1f} s CPU "
                f"{wall:5.1f} s wall {result.peak_bytes / 1e6:6.0f} MB",
                flush=True,
            )
    for group, runs in by_group.items():
        rows.append(
            [
                group,
                len(runs),
                sum(r[0] for r in runs),
                f"{statistics.median(r[1] for r in runs):.1f} / {max(r[1] for r in runs):.1f}",
                f"{statistics.median(r[2] for r in runs):.1f} / {max(r[2] for r in runs):.1f}",
                f"{max(r[3] for r in runs) / 1e6:,.0f}",
            ]
        )
    total = sum(len(r) for r in by_group.values())
    held = sum(sum(x[0] for x in r) for r in by_group.values())
    rows.append(["**all attacks**", total, held, "", "", ""])
    body = [
        "## Hostile suite (`benchmarks/hostile.py`)",
        "",
        f"Machine: {machine()}, load average {load:.1f} at the start. Each attack of issue 18 runs as `python -m rnnmusic …` in its "
        "own process (4 GB address-space limit); it holds when it ends in one sentence and "
        "exit 2, or exit 0 with correct output, within 10 s of CPU and 1 GB peak resident "
        "memory (the whole process: Python and torch take about 300 MB), leaving no empty or "
        "temporary file. Wall seconds include starting Python and importing torch.",
        "",
        table(
            ["attacks on", "cases", "held", "CPU s median / max", "wall s median / max", "peak MB"],
            rows,
        ),
    ]
    if skipped:
        body += ["", f"Skipped (no root to mount a small disk): {', '.join(skipped)}."]
    if not args.no_files:
        files_total, files_held, file_failures = hostile_files()
        counts = Counter(f.split(":")[0] for f in file_failures)
        body += [
            "",
            f"Hostile files (`tests/hostile_files.py`, every reader, in one process): "
            f"{files_held} of {files_total} held"
            + (f" (failed: {dict(counts)})" if file_failures else "")
            + ".",
        ]
        failures += file_failures
    if failures:
        body += ["", "Failed:", *(f"- {f}" for f in failures)]
    print("\n".join(body))
    if not args.no_write:
        write_section("hostile", "\n".join(body))


if __name__ == "__main__":
    main()
