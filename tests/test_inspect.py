"""`rnnmusic inspect`: the self-contained HTML page of predictions, cells and samples."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import numpy as np
import pytest
import torch
from conftest import assert_user_error
from helpers import counting_corpus, tiny_config
from PIL import Image
from viz_helpers import page_requests, run_chromium

from rnnmusic.activations import trace_text
from rnnmusic.checkpoint import load_checkpoint
from rnnmusic.train import fit

INPUT = "two three four five six\n\nseven eight nine zero one two three\n\nfour five six seven"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("inspect")
    corpus = counting_corpus(tmp / "count.txt")
    return fit(tiny_config(corpus, tmp / "run", max_steps=40, eval_every=10)).run_dir


@pytest.fixture(scope="module")
def page(run_dir, tmp_path_factory):
    from conftest import run_cli

    tmp = tmp_path_factory.mktemp("page")
    (tmp / "input.txt").write_text(INPUT, encoding="utf-8")
    result = run_cli("inspect", run_dir, "--input", tmp / "input.txt", "-o", tmp / "page.html")
    assert result.returncode == 0, result.stderr
    assert "page.html" in result.stdout
    return tmp / "page.html"


class PageParser(HTMLParser):
    """Character spans, links and sources, the embedded data, the samples of the timeline."""

    def __init__(self):
        super().__init__()
        self.spans: list[dict] = []
        self.urls: list[str] = []
        self.samples = 0
        self.meta: list[dict] = []
        self._in_span = False
        self._in_data = False
        self.data_text = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("src", "href", "action", "data", "poster"):
            if key in attrs:
                self.urls.append(attrs[key])
        if tag == "meta":
            self.meta.append(attrs)
        if tag == "span" and attrs.get("class") == "c":
            self.spans.append({**attrs, "text": ""})
            self._in_span = True
        if tag == "div" and attrs.get("class") == "sample":
            self.samples += 1
        if tag == "script" and attrs.get("id") == "data":
            self._in_data = True

    def handle_endtag(self, tag):
        if tag == "span":
            self._in_span = False
        if tag == "script":
            self._in_data = False

    def handle_data(self, data):
        if self._in_span:
            self.spans[-1]["text"] += data
        if self._in_data:
            self.data_text += data


def parse(html_text: str) -> PageParser:
    parser = PageParser()
    parser.feed(html_text)
    return parser


def test_trace_agrees_with_pytorchs_own_lstm(run_dir):
    ckpt = load_checkpoint(run_dir)
    model, vocab = ckpt.model(), ckpt.vocab
    separator = ckpt.meta["separator"]
    trace = trace_text(model, vocab, separator, INPUT)
    assert trace.activations.shape == (len(INPUT), 2 * 64)
    ids = torch.tensor([[vocab.index(ch) for ch in separator + INPUT]])
    with torch.no_grad():
        logits, _ = model(ids)
        probs = torch.softmax(logits[0, len(separator) :], dim=-1).numpy()
        for k in (5, len(INPUT) // 2, len(INPUT)):  # cell states after k characters
            _, (_, c) = model.rnn(model.embed(ids[:, : len(separator) + k]))
            expected = torch.tanh(c[:, 0, :]).reshape(-1).numpy()
            np.testing.assert_allclose(trace.activations[k - 1], expected, atol=1e-5)
    np.testing.assert_array_equal(trace.top_ids[:, 0], probs.argmax(axis=1))
    np.testing.assert_allclose(trace.top_probs[:, 0], probs.max(axis=1), atol=1e-5)
    following = [vocab.index(ch) for ch in INPUT[1:]]
    np.testing.assert_allclose(
        trace.next_prob[:-1], probs[np.arange(len(INPUT) - 1), following], atol=1e-5
    )


def test_page_has_one_element_per_character_with_its_predictions(page):
    parsed = parse(page.read_text(encoding="utf-8"))
    assert len(parsed.spans) == len(INPUT)
    for index, (span, ch) in enumerate(zip(parsed.spans, INPUT, strict=True)):
        assert span["data-i"] == str(index)
        assert span["text"] == ("↵" if ch == "\n" else ch)
        guesses = span["title"].split(" | ")[0]
        assert guesses.startswith("next: ")
        assert len(guesses.split(" · ")) == 5
        assert span["style"].startswith("background:rgba(")
    assert "actual" in parsed.spans[0]["title"] and "actual" not in parsed.spans[-1]["title"]


def test_page_lists_position_cells_and_the_training_samples(page, run_dir):
    text = page.read_text(encoding="utf-8")
    parsed = parse(text)
    data = json.loads(parsed.data_text)
    links = [url for url in parsed.urls if url.startswith("#cell-")]
    assert len(links) >= 5  # the cells that track position, each linked to its view
    for link in links:
        assert link[len("#cell-") :] in data["cells"]  # its activations are in the page
        assert len(data["cells"][link[len("#cell-") :]]) == len(INPUT)
    steps = [json.loads(line)["step"] for line in (run_dir / "samples.jsonl").open()]
    assert steps == [10, 20, 30, 40]
    assert parsed.samples == len(steps)
    assert all(f'data-step="{step}"' in text for step in steps)


def test_page_needs_no_network(page):
    parsed = parse(page.read_text(encoding="utf-8"))
    assert all(url.startswith("#") for url in parsed.urls), parsed.urls
    assert not re.search(r"(?i)(src|href)\s*=\s*[\"']?\s*(https?:|//)", page.read_text())
    policy = [m["content"] for m in parsed.meta if m.get("http-equiv") == "Content-Security-Policy"]
    assert policy and "default-src 'none'" in policy[0]


@pytest.mark.slow
def test_chosen_cell_colours_the_text(run_dir, tmp_path, cli):
    (tmp_path / "in.txt").write_text(INPUT, encoding="utf-8")
    for cell in (3, 100):
        result = cli(
            "inspect", run_dir, "--input", tmp_path / "in.txt", "-o", tmp_path / f"{cell}.html",
            "--cell", cell,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert f"coloured by cell {cell}" in result.stdout
    three = parse((tmp_path / "3.html").read_text(encoding="utf-8"))
    hundred = parse((tmp_path / "100.html").read_text(encoding="utf-8"))
    assert "cell 3 (layer 1, unit 3)" in (tmp_path / "3.html").read_text(encoding="utf-8")
    assert "cell 100 (layer 2, unit 36)" in (tmp_path / "100.html").read_text(encoding="utf-8")
    assert [s["style"] for s in three.spans] != [s["style"] for s in hundred.spans]


@pytest.mark.slow
def test_inspect_errors_are_one_sentence(run_dir, tmp_path, cli):
    good = tmp_path / "in.txt"
    good.write_text(INPUT, encoding="utf-8")
    out = tmp_path / "p.html"
    assert_user_error(
        cli("inspect", run_dir, "--input", good, "-o", out, "--cell", 128), "--cell", "0 and 127"
    )
    foreign = tmp_path / "foreign.txt"
    foreign.write_text("ZWÖLF elf", encoding="utf-8")
    assert_user_error(cli("inspect", run_dir, "--input", foreign, "-o", out), "never saw")
    assert_user_error(cli("inspect", run_dir, "--input", tmp_path / "no.txt", "-o", out), "no.txt")
    assert_user_error(cli("inspect", run_dir, "--input", good, "-o", tmp_path / "p.txt"), "HTML")
    assert_user_error(cli("inspect", tmp_path, "--input", good, "-o", out), "no checkpoint")
    assert not out.exists()


# -- in a real browser --------------------------------------------------------------------------


CELL_COLOUR = re.compile(r"background:\s*rgba?\((\d+),\s*(\d+),\s*(\d+)(?:,\s*([\d.]+))?\)")


@pytest.mark.slow
@pytest.mark.needs("chromium")
def test_page_opens_in_chromium_without_any_request(page, tmp_path):
    shot = tmp_path / "shot.png"
    netlog = tmp_path / "net.json"
    result = run_chromium(page.as_uri(), tmp_path, f"--screenshot={shot}", netlog=netlog)
    assert result.returncode == 0, result.stderr[-2000:]
    image = np.asarray(Image.open(shot).convert("RGB"))
    assert image.shape == (900, 1200, 3)
    coloured = (np.abs(image.astype(int) - 255).sum(axis=-1) > 60).mean()
    assert coloured > 0.03  # the text with its activation colours, not a blank page
    assert page_requests(netlog) == []


@pytest.mark.slow
@pytest.mark.needs("chromium")
def test_the_request_check_would_see_a_request(tmp_path):
    """The instrument of the test above: a page that does fetch something is caught."""
    leaky = tmp_path / "leaky.html"
    leaky.write_text('<!DOCTYPE html><img src="http://127.0.0.1:9/track.png">', encoding="utf-8")
    netlog = tmp_path / "net.json"
    result = run_chromium(leaky.as_uri(), tmp_path, "--dump-dom", netlog=netlog)
    assert result.returncode == 0, result.stderr[-2000:]
    assert page_requests(netlog) == ["http://127.0.0.1:9/track.png"]


@pytest.mark.slow
@pytest.mark.needs("chromium")
def test_dom_in_chromium_and_a_cell_link_switches_the_view(page, tmp_path):
    parsed = parse(page.read_text(encoding="utf-8"))
    data = json.loads(parsed.data_text)
    other = next(key for key in data["cells"] if int(key) != data["cell"])
    result = run_chromium(f"{page.as_uri()}#cell-{other}", tmp_path, "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = parse(result.stdout)
    assert len(dom.spans) == len(INPUT)
    assert all(len(s["title"].split(" | ")[0].split(" · ")) == 5 for s in dom.spans)
    assert re.search(rf'<h2 id="cell-heading">cell {other} \(', result.stdout)
    for span, value in zip(dom.spans, data["cells"][other], strict=True):
        match = CELL_COLOUR.search(span["style"])
        assert match, span["style"]
        alpha = float(match.group(4)) if match.group(4) is not None else 1.0
        assert abs(alpha - min(1, abs(value) / 100) * 0.85) < 0.011
        if alpha > 0:
            red = value >= 0
            assert (match.group(1) == "214") == red


@pytest.mark.parametrize("cell_kind", ["lstm", "gru"])
def test_markup_in_the_text_stays_text(cell_kind):
    """Characters that mean something in HTML, JSON or JavaScript are shown, never run."""
    from rnnmusic.inspect_page import render_page
    from rnnmusic.model import CharRNN, ModelConfig

    text = '<script>alert("x")</script> & </span><b>\'"|' * 3 + "\n\u2028end"
    vocab = sorted(set(text) | set("\n"))
    torch.manual_seed(0)
    model = CharRNN(ModelConfig(len(vocab), hidden_size=16, num_layers=2, cell=cell_kind))
    trace = trace_text(model, vocab, "\n\n", text)
    assert trace.what == ("tanh(c)" if cell_kind == "lstm" else "h")
    page = render_page(trace, 5, [], [], title="<b>run</b>", about="a & b")
    parsed = parse(page)
    assert "".join("\n" if s["text"] == "↵" else s["text"] for s in parsed.spans) == text
    assert json.loads(parsed.data_text)["cell"] == 5
    assert "<b>run</b>" not in page and "<script>alert" not in page
