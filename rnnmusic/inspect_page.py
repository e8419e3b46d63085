"""`rnnmusic inspect`: one self-contained HTML page that shows what a model learned.

The page holds the input text with each character's top-5 next-character predictions on hover,
coloured by one cell's activation (red positive, blue negative, as in char-rnn's visualisation);
the cells that track musical position, each a link to its view; and the samples written during
training as a timeline. Everything is inline — no request leaves the page (its Content Security
Policy forbids any), so it opens from a mail attachment or a laptop offline."""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnmusic.activations import Trace, trace_text
from rnnmusic.atomic_write import write_text
from rnnmusic.bounded_read import read_bytes, read_utf8
from rnnmusic.checkpoint import Checkpoint, load_checkpoint
from rnnmusic.codecs.text import read_text_file
from rnnmusic.errors import CodecError, RnnMusicError
from rnnmusic.positions import CellMatch, position_cells, position_features
from rnnmusic.vocabulary import unknown_characters

DEFAULT_MAX_CHARS = 3000
MAX_SAMPLES_BYTES = 64 * 1024 * 1024  # samples.jsonl of a long run, or a text to inspect
LISTED_CELLS = 16
SHOWN = {"\n": "↵", " ": "␣", "\t": "⇥", "\r": "␍"}


@dataclass
class Sample:
    step: int
    val_bpc: float | None
    text: str


@dataclass
class InspectResult:
    page: Path
    characters: int
    truncated_from: int | None  # the input's length when only its start was shown
    cell: int
    listed: list[CellMatch]
    samples: int


def inspect_run(
    checkpoint: str | Path,
    input_path: str | Path,
    out: str | Path,
    cell: int | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> InspectResult:
    """Run the model over the input and write the page to `out`."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise RnnMusicError(f"the page is HTML; name the output {out.stem}.html")
    if max_chars < 1:
        raise RnnMusicError("--max-chars must be at least 1")
    ckpt = load_checkpoint(checkpoint)
    text = input_text(ckpt, input_path)
    full_length = len(text)
    text = text[:max_chars]
    model = ckpt.model("cpu")
    separator = ckpt.info.separator or ckpt.codec().separator
    trace = trace_text(model, ckpt.vocab, separator, text)
    listed = position_cells(trace.activations, position_features(text), LISTED_CELLS)
    if cell is not None and not 0 <= cell < trace.cells:
        raise RnnMusicError(
            f"--cell must lie between 0 and {trace.cells - 1} (the model has {trace.layers} "
            f"layer(s) of {trace.hidden} cells)"
        )
    chosen = cell if cell is not None else (listed[0].cell if listed else 0)
    run_dir = ckpt.path.parent
    samples = read_samples(run_dir / "samples.jsonl")
    page = render_page(
        trace,
        chosen,
        listed,
        samples,
        title=f"{run_dir.resolve().name} — {ckpt.codec_name}",
        about=_about(ckpt, input_path, len(text), full_length),
    )
    write_text(out, page)
    return InspectResult(
        page=out,
        characters=len(text),
        truncated_from=full_length if full_length > len(text) else None,
        cell=chosen,
        listed=listed,
        samples=len(samples),
    )


def input_text(ckpt: Checkpoint, path: str | Path) -> str:
    """The text to inspect: a file in the codec's notation is encoded by the codec (its pieces
    joined by the separator); any other file is read as text already in the model's alphabet."""
    path = Path(path)
    codec = ckpt.codec()
    if codec.name != "text" and path.suffix.lower() in codec.extensions:
        try:
            return codec.separator.join(codec.encode_file(path))
        except CodecError:
            raw = _read_text_or_none(path)
            if raw is None or unknown_characters(raw, ckpt.vocab):
                raise
            return raw  # codec text saved under the notation's extension (e.g. a tab sample)
    try:
        return read_text_file(path, codec.name)
    except CodecError as exc:
        raise RnnMusicError(f"cannot inspect {path}: {exc.reason}") from None


def _read_text_or_none(path: Path) -> str | None:
    try:
        return read_utf8(path, MAX_SAMPLES_BYTES)
    except CodecError:
        return None


def read_samples(path: Path) -> list[Sample]:
    """The run's samples.jsonl, in step order; damaged lines are left out."""
    if not path.is_file():
        return []
    samples = []
    try:
        text = read_bytes(path, MAX_SAMPLES_BYTES, "a samples log").decode("utf-8", "replace")
    except CodecError:
        return []
    for line in text.splitlines():
        try:
            record = json.loads(line)
            step, text = int(record["step"]), str(record["text"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
        bpc = record.get("val_bpc")
        good = isinstance(bpc, (int, float)) and math.isfinite(bpc)
        samples.append(Sample(step, float(bpc) if good else None, text))
    latest = {s.step: s for s in samples}  # a resumed run repeats steps: keep the newest
    return [latest[step] for step in sorted(latest)]


def _about(ckpt: Checkpoint, input_path, shown: int, total: int) -> str:
    model, step, bpc = ckpt.info.model, ckpt.info.step, ckpt.info.val_loss
    parts = [
        f"{model.num_layers}×{model.hidden_size} {model.cell.upper()}",
        f"step {step}" if step is not None else "",
        f"validation {bpc / math.log(2):.3f} bits/char"
        if isinstance(bpc, (int, float)) and math.isfinite(bpc)
        else "",
        f"input {Path(input_path).name}: {shown:,} characters"
        + (f" (the first {shown:,} of {total:,})" if total > shown else ""),
    ]
    return " · ".join(p for p in parts if p)


# -- the page -----------------------------------------------------------------------------------


def colour(activation: float) -> str:
    """Red for positive, blue for negative, stronger for larger magnitude."""
    a = max(-1.0, min(1.0, float(activation)))
    rgb = "214,39,40" if a >= 0 else "31,119,180"
    return f"rgba({rgb},{abs(a) * 0.85:.2f})"


def _shown(ch: str) -> str:
    return SHOWN.get(ch, ch)


def _prediction_title(trace: Trace, t: int) -> str:
    guesses = " · ".join(
        f"{_shown(trace.vocab[i])} {p * 100:.1f}%"
        for i, p in zip(trace.top_ids[t], trace.top_probs[t], strict=True)
    )
    title = f"next: {guesses}"
    if t + 1 < len(trace.text):
        title += f" | actual {_shown(trace.text[t + 1])} {trace.next_prob[t] * 100:.1f}%"
    return title


def _text_spans(trace: Trace, cell: int) -> str:
    spans = []
    for t, ch in enumerate(trace.text):
        style = colour(trace.activations[t, cell])
        span = (
            f'<span class="c" data-i="{t}" style="background:{style}" '
            f'title="{html.escape(_prediction_title(trace, t))}">'
            f"{html.escape(_shown(ch) if ch == chr(10) else ch)}</span>"
        )
        spans.append(span + ("\n" if ch == "\n" else ""))
    return "".join(spans)


def _json_script(element_id: str, data) -> str:
    payload = json.dumps(data, separators=(",", ":")).replace("<", "\\u003c")
    return f'<script type="application/json" id="{element_id}">{payload}</script>'


def _cell_table(trace: Trace, listed: list[CellMatch]) -> str:
    if not listed:
        return "<p>Too little input to correlate cells with position (give 30+ characters).</p>"
    rows = [
        f'<tr><td><a href="#cell-{m.cell}">cell {m.cell}</a></td>'
        f"<td>{html.escape(trace.cell_label(m.cell))}</td>"
        f"<td>{html.escape(m.feature)}</td><td>{m.r:+.2f}</td></tr>"
        for m in listed
    ]
    return (
        '<table id="cells"><thead><tr><th>cell</th><th>where</th><th>tracks</th>'
        "<th>r</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _timeline(samples: list[Sample]) -> str:
    if not samples:
        return "<p>This run has no samples.jsonl (training writes one sample per validation).</p>"
    blocks = []
    for number, sample in enumerate(samples):
        bpc = f"{sample.val_bpc:.3f} bits/char" if sample.val_bpc is not None else ""
        blocks.append(
            f'<div class="sample" data-n="{number}" data-step="{sample.step}"'
            f"{'' if number == len(samples) - 1 else ' hidden'}>"
            f"<h3>step {sample.step}{' · validation ' + bpc if bpc else ''}</h3>"
            f"<pre>{html.escape(sample.text)}</pre></div>"
        )
    last = len(samples) - 1
    return (
        f'<label>step <input id="timeline" type="range" min="0" max="{last}" value="{last}">'
        f'</label> <button id="play" type="button">▶ watch it learn</button>' + "".join(blocks)
    )


def render_page(
    trace: Trace,
    cell: int,
    listed: list[CellMatch],
    samples: list[Sample],
    title: str,
    about: str,
) -> str:
    shown_cells = sorted({cell, *(m.cell for m in listed)})
    data = {
        "cell": cell,
        "cells": {
            str(k): np.round(trace.activations[:, k] * 100).astype(int).tolist()
            for k in shown_cells
        },
        "labels": {str(k): trace.cell_label(k) for k in shown_cells},
        "tracks": {str(m.cell): f"{m.feature} (r = {m.r:+.2f})" for m in listed},
        "vocab": [_shown(ch) for ch in trace.vocab],
        "top": trace.top_ids.tolist(),
        "probs": np.round(trace.top_probs * 1000).astype(int).tolist(),
    }
    tracks = next((f" — tracks {m.feature}" for m in listed if m.cell == cell), "")
    return PAGE.format(
        title=html.escape(title),
        about=html.escape(about),
        what=html.escape(trace.what),
        cell_heading=html.escape(f"cell {cell} ({trace.cell_label(cell)}){tracks}"),
        spans=_text_spans(trace, cell),
        cell_table=_cell_table(trace, listed),
        timeline=_timeline(samples),
        data=_json_script("data", data),
        script=SCRIPT,
    )


STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; margin: 0 0 .2em; } h2 { font-size: 1.1em; margin: 1.4em 0 .4em; }
.about { color: #555; }
.text { font: 14px/1.7 ui-monospace, monospace; white-space: pre-wrap; word-break: break-all;
        border: 1px solid #ddd; padding: .6em; max-height: 60vh; overflow: auto; }
.c { cursor: default; } .c:hover { outline: 1px solid #000; }
#panel { position: sticky; top: 0; background: #fafafa; border: 1px solid #ddd; padding: .4em .6em;
         min-height: 3.2em; font: 13px ui-monospace, monospace; }
.bar { display: inline-block; height: .7em; background: #888; vertical-align: middle; }
table { border-collapse: collapse; } td, th { padding: .15em .7em; text-align: left; }
tr:nth-child(even) { background: #f4f4f4; } tr.current { background: #ffe9a8; }
pre { white-space: pre-wrap; background: #f7f7f7; padding: .5em; }
"""

SCRIPT = r"""
(function () {
  var data = JSON.parse(document.getElementById('data').textContent);
  var spans = document.querySelectorAll('#text .c');
  var current = data.cell;
  function colour(v) {
    var a = Math.max(-1, Math.min(1, v / 100));
    return 'rgba(' + (a >= 0 ? '214,39,40' : '31,119,180') + ',' + (Math.abs(a) * 0.85).toFixed(2) + ')';
  }
  function show(cell) {
    var values = data.cells[cell];
    if (!values) return;
    current = cell;
    for (var i = 0; i < spans.length; i++) spans[i].style.background = colour(values[i]);
    var track = data.tracks[cell] ? ' — tracks ' + data.tracks[cell] : '';
    document.getElementById('cell-heading').textContent =
      'cell ' + cell + ' (' + data.labels[cell] + ')' + track;
    var rows = document.querySelectorAll('#cells tbody tr');
    for (var r = 0; r < rows.length; r++) {
      var link = rows[r].querySelector('a');
      rows[r].className = link && link.getAttribute('href') === '#cell-' + cell ? 'current' : '';
    }
  }
  function fromHash() {
    var m = /^#cell-(\d+)$/.exec(location.hash);
    if (m) show(m[1]);
  }
  window.addEventListener('hashchange', fromHash);
  show(String(current));
  fromHash();
  var panel = document.getElementById('panel');
  document.getElementById('text').addEventListener('mouseover', function (e) {
    var span = e.target.closest('.c');
    if (!span) return;
    var i = +span.dataset.i, lines = [];
    lines.push('character ' + i + ': ' + span.textContent + '   cell ' + current + ' = ' +
               (data.cells[current][i] / 100).toFixed(2));
    for (var k = 0; k < data.top[i].length; k++) {
      var p = data.probs[i][k] / 10;
      lines.push('<span class="bar" style="width:' + (p * 2).toFixed(0) + 'px"></span> ' +
                 escape(data.vocab[data.top[i][k]]) + ' ' + p.toFixed(1) + '%');
    }
    panel.innerHTML = lines.join('<br>');
  });
  function escape(s) {
    return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  }
  var slider = document.getElementById('timeline');
  if (slider) {
    var samples = document.querySelectorAll('.sample');
    var pick = function () {
      for (var s = 0; s < samples.length; s++) samples[s].hidden = String(s) !== slider.value;
    };
    slider.addEventListener('input', pick);
    var timer = null;
    document.getElementById('play').addEventListener('click', function () {
      if (timer) { clearInterval(timer); timer = null; return; }
      slider.value = 0; pick();
      timer = setInterval(function () {
        if (+slider.value >= samples.length - 1) { clearInterval(timer); timer = null; return; }
        slider.value = +slider.value + 1; pick();
      }, 700);
    });
  }
})();
"""

PAGE = (
    """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'">
<title>{title}</title>
<style>"""
    + STYLE.replace("{", "{{").replace("}", "}}")
    + """</style></head>
<body>
<h1>{title}</h1>
<p class="about">{about}</p>
<h2 id="cell-heading">{cell_heading}</h2>
<p class="about">Background: the cell's activation {what} after reading each character (red
positive, blue negative). Hover a character for the model's five likeliest next characters.</p>
<div id="panel">hover a character</div>
<div id="text" class="text">{spans}</div>
<h2>Cells that track musical position</h2>
<p class="about">Found automatically: each cell's activation correlated with positions counted
from the text (since the last bar line or group mark, inside brackets or quotes, column).
Click one to colour the text by it.</p>
{cell_table}
<h2>Watch it learn: samples during training</h2>
{timeline}
{data}
<script>{script}</script>
</body></html>
"""
)
