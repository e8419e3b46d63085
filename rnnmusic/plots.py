"""Pictures as PNG: a piano roll per MIDI file and a run's learning curve.

Drawn with matplotlib's Agg canvas on a private Figure (never pyplot), so nothing needs a
display and nothing touches global plotting state."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from rnnmusic.atomic_write import atomic_path
from rnnmusic.bounded_read import read_bytes, read_json
from rnnmusic.errors import CodecError, RnnMusicError
from rnnmusic.midi_input import read_music

DPI = 100
ROLL_HEIGHT_PX = 480
ROLL_PX_PER_SECOND = 60
ROLL_MIN_WIDTH_PX, ROLL_MAX_WIDTH_PX = 800, 6000
CURVE_SIZE_PX = (1000, 560)
MARGINS_PX = {"left": 70, "right": 20, "top": 40, "bottom": 50}
NOTE_HALF_HEIGHT = 0.4  # a note covers pitch ± this, leaving a gap between neighbours
DRUM_COLOUR = "#555555"
MAX_LEGEND = 12  # instruments named above a piano roll; a file may have thousands
BASELINE_COLOUR = "#d62728"
TRAIN_COLOUR, VALID_COLOUR = "#1f77b4", "#2ca02c"
MAX_METRICS_BYTES = 256 * 1024 * 1024  # a million logged steps take about 150 MB


@dataclass(frozen=True)
class PlotGeometry:
    """Where data coordinates land in the PNG (lets callers locate a note or a level)."""

    width: int
    height: int
    box: tuple[float, float, float, float]  # plot area: left, bottom, right, top (pixels, y up)
    xlim: tuple[float, float]
    ylim: tuple[float, float]

    def pixel(self, x: float, y: float) -> tuple[int, int]:
        """(column, row) of a data point, rows counted from the top as in an image array."""
        left, bottom, right, top = self.box
        col = left + (x - self.xlim[0]) / (self.xlim[1] - self.xlim[0]) * (right - left)
        row_up = bottom + (y - self.ylim[0]) / (self.ylim[1] - self.ylim[0]) * (top - bottom)
        return int(col), int(self.height - row_up)


def _figure(width: int, height: int) -> tuple[Figure, object]:
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    fig.subplots_adjust(
        left=MARGINS_PX["left"] / width,
        right=1 - MARGINS_PX["right"] / width,
        bottom=MARGINS_PX["bottom"] / height,
        top=1 - MARGINS_PX["top"] / height,
    )
    return fig, fig.add_subplot(1, 1, 1)


def _save(fig: Figure, ax, png: str | Path) -> PlotGeometry:
    png = Path(png)
    if png.suffix.lower() != ".png":
        raise RnnMusicError(f"pictures are written as PNG; name the output {png.stem}.png")
    fig.canvas.draw()
    box = ax.get_window_extent()
    width, height = (round(v) for v in fig.get_size_inches() * DPI)
    with atomic_path(png) as tmp:  # a full disk leaves no empty or half-written picture
        fig.savefig(tmp, dpi=DPI, format="png")
    return PlotGeometry(
        width=width,
        height=height,
        box=(float(box.x0), float(box.y0), float(box.x1), float(box.y1)),
        xlim=tuple(float(v) for v in ax.get_xlim()),
        ylim=tuple(float(v) for v in ax.get_ylim()),
    )


# -- piano roll ---------------------------------------------------------------------------------


def roll_width(seconds: float) -> int:
    """Wider for longer pieces so a sixteenth note stays visible, within sane bounds."""
    wanted = MARGINS_PX["left"] + MARGINS_PX["right"] + ROLL_PX_PER_SECOND * seconds
    return int(min(ROLL_MAX_WIDTH_PX, max(ROLL_MIN_WIDTH_PX, math.ceil(wanted))))


def piano_roll(midi: str | Path, png: str | Path, title: str | None = None) -> PlotGeometry:
    """One rectangle per note (time → x, pitch → y), a colour per instrument, bar lines."""
    import pretty_midi

    music = read_music(midi)  # a clear CodecError for damaged files
    notes = [(inst, note) for inst in music.instruments for note in inst.notes]
    end = max((note.end for _, note in notes), default=0.0)
    fig, ax = _figure(roll_width(end), ROLL_HEIGHT_PX)
    ax.set_title(title or Path(midi).name, fontsize=11, loc="left")
    ax.set_xlabel("seconds")
    if not notes:
        ax.set_xlim(0, 1)
        ax.set_ylim(59.5, 72.5)
        ax.text(0.5, 0.5, "no notes", ha="center", va="center", transform=ax.transAxes)
        return _save(fig, ax, png)

    pitches = [note.pitch for _, note in notes]
    low, high = min(pitches) - 2, max(pitches) + 2
    if high - low < 24:  # at least two octaves, so one melody line does not fill the picture
        middle = (low + high) / 2
        low, high = middle - 12, middle + 12
    ax.set_xlim(0, end * 1.01)
    ax.set_ylim(low, high)
    _bar_lines(ax, music, end)
    palette = [f"C{i}" for i in range(10)]
    labelled = []
    boxes_by_colour: dict[str, list[Rectangle]] = {}
    playing = [(n, inst) for n, inst in enumerate(music.instruments) if inst.notes]
    for number, inst in playing:
        colour = DRUM_COLOUR if inst.is_drum else palette[number % len(palette)]
        boxes_by_colour.setdefault(colour, []).extend(
            Rectangle(
                (n.start, n.pitch - NOTE_HALF_HEIGHT),
                max(n.end - n.start, 1e-3),
                2 * NOTE_HALF_HEIGHT,
            )
            for n in inst.notes
        )
        if len(labelled) < MAX_LEGEND:
            name = "drums" if inst.is_drum else pretty_midi.program_to_instrument_name(inst.program)
            labelled.append(Rectangle((0, 0), 1, 1, facecolor=colour, label=inst.name or name))
    for colour, boxes in boxes_by_colour.items():  # one collection per colour: fast to draw
        ax.add_collection(PatchCollection(boxes, facecolor=colour, edgecolor="none", zorder=2))
    if len(playing) > MAX_LEGEND:
        more = len(playing) - MAX_LEGEND
        labelled.append(Rectangle((0, 0), 1, 1, fill=False, lw=0, label=f"… {more:,} more"))
    if len(labelled) > 1:  # above the plot, where it cannot hide notes
        ax.legend(
            handles=labelled,
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncol=min(len(labelled), 4),
            fontsize=8,
            frameon=False,
            borderaxespad=0.2,
        )
    octaves = [p for p in range(math.ceil(low), math.floor(high) + 1) if p % 12 == 0]
    ax.set_yticks(octaves, [pretty_midi.note_number_to_name(p) for p in octaves])
    ax.set_ylabel("pitch")
    ax.grid(True, axis="y", color="#eeeeee", zorder=0)  # a line at every C
    ax.set_axisbelow(True)
    return _save(fig, ax, png)


def _bar_lines(ax, music, end: float) -> None:
    try:
        downbeats = music.get_downbeats()
    except (ValueError, IndexError, ZeroDivisionError):  # odd time signatures: no bar lines
        return
    for beat in downbeats:
        if beat <= end:
            ax.axvline(beat, color="#dddddd", linewidth=0.8, zorder=1)


# -- learning curve -----------------------------------------------------------------------------


@dataclass
class RunMetrics:
    train: list[tuple[int, float]]  # (step, bits per char), one per logged step
    valid: list[tuple[int, float]]
    ngram_bpc: float | None


def read_metrics(run_dir: str | Path) -> RunMetrics:
    """The run's metrics.jsonl (the last record wins where a resumed run repeated steps) and the
    n-gram baseline from eval.json when `rnnmusic eval` has written one."""
    run_dir = Path(run_dir)
    path = run_dir / "metrics.jsonl"
    if not run_dir.is_dir():
        raise RnnMusicError(f"{run_dir} is not a folder; give the run folder that `train` wrote")
    if not path.is_file():
        raise RnnMusicError(f"{run_dir} holds no metrics.jsonl; is it a training run folder?")
    train: dict[int, float] = {}
    valid: dict[int, float] = {}
    try:
        text = read_bytes(path, MAX_METRICS_BYTES, "a metrics log").decode("utf-8", "replace")
    except CodecError as exc:
        raise RnnMusicError(str(exc)) from None
    for line in text.splitlines():
        try:
            record = json.loads(line)
            step = int(record["step"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue  # a line cut short by a crash or a concurrent write
        for key, table in (("train_bpc", train), ("val_bpc", valid)):
            value = record.get(key)
            if isinstance(value, (int, float)) and math.isfinite(value):
                table[step] = float(value)
    if not train and not valid:
        raise RnnMusicError(f"{path} holds no losses yet; plot again after the first log step")
    return RunMetrics(sorted(train.items()), sorted(valid.items()), _ngram_baseline(run_dir))


def _ngram_baseline(run_dir: Path) -> float | None:
    try:
        value = read_json(run_dir / "eval.json", MAX_METRICS_BYTES).get("ngram_bpc")
    except (CodecError, AttributeError):
        return None
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def loss_curve(run_dir: str | Path, png: str | Path) -> PlotGeometry:
    """Training and validation bits per character against step, the n-gram baseline as a line."""
    run_dir = Path(run_dir)
    metrics = read_metrics(run_dir)
    fig, ax = _figure(*CURVE_SIZE_PX)
    if metrics.train:
        steps, bpc = zip(*metrics.train, strict=True)
        ax.plot(steps, bpc, color=TRAIN_COLOUR, linewidth=1.2, alpha=0.8, label="training")
    if metrics.valid:
        steps, bpc = zip(*metrics.valid, strict=True)
        ax.plot(steps, bpc, color=VALID_COLOUR, marker="o", markersize=4, label="validation")
        best_step, best = min(metrics.valid, key=lambda item: item[1])
        ax.annotate(
            f"best {best:.3f}",
            (best_step, best),
            textcoords="offset points",
            xytext=(0, -16),
            ha=_label_alignment(best_step / _x_end(metrics)),
            fontsize=9,
            color=VALID_COLOUR,
        )
    if metrics.ngram_bpc is not None:
        ax.axhline(
            metrics.ngram_bpc,
            color=BASELINE_COLOUR,
            linestyle="--",
            linewidth=1.5,
            label=f"n-gram baseline {metrics.ngram_bpc:.3f}",
        )
    ax.set_xlabel("step")
    ax.set_ylabel("bits per character")
    ax.set_title(f"{run_dir.resolve().name}: learning curve", fontsize=11)
    ax.grid(True, color="#eeeeee")
    ax.legend(loc="upper right")
    ax.set_xlim(0, _x_end(metrics))
    return _save(fig, ax, png)


def _x_end(metrics: RunMetrics) -> float:
    return max(1, max(step for step, _ in metrics.train + metrics.valid)) * 1.02


def _label_alignment(position: float) -> str:
    """A label near either end of the x axis grows inwards, so the picture never cuts it."""
    if position > 0.85:
        return "right"
    return "left" if position < 0.15 else "center"
