# Two commands a newcomer needs:  `make demo` (set up, train two small models on the built-in
# corpora, write samples) and `make test` (set up, lint, run the whole test suite).
# README.md says what each needs and how long it takes.

VENV ?= .venv
PY := $(VENV)/bin/python
RNNMUSIC := $(VENV)/bin/rnnmusic
TORCH_PIN ?= torch==2.13.0
# Where the torch wheel comes from, in addition to the usual index. Plain PyPI gives Linux the
# CUDA build (about 5 GB installed); https://download.pytorch.org/whl/cpu has the 1.3 GB CPU one.
TORCH_INDEX ?=
DEMO ?= demo-out
DEMO_STEPS ?= 400

.PHONY: setup demo test test-fast lint format bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) "$(TORCH_PIN)"
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# Each stage says what it does; progress bars show the long steps (on a terminal, or a line every
# 30 s in a log). The first run converts the Bach chorales to MIDI once (about 40 CPU-seconds).
# One math thread: the tiny models gain little from a second, and on a busy machine a second
# thread waits for a core (200 steps: 25 s with one thread, 137 s with two, at load 10 on 2 cores).
demo: export OMP_NUM_THREADS ?= 1
demo: setup
	@rm -rf $(DEMO)
	@echo "== rnnmusic demo: two small models and their samples, about 3 minutes on 2 cores"
	@echo "== 1/3  MIDI: a small LSTM on the Bach chorales that ship with music21 (midi-events codec, $(DEMO_STEPS) steps)"
	$(RNNMUSIC) train --codec midi-events --preset tiny --max-steps $(DEMO_STEPS) --out $(DEMO)/chorales-run
	$(RNNMUSIC) generate $(DEMO)/chorales-run -o $(DEMO)/chorale.mid --num 3 --temperature 0.9 --seed 1
	@echo "== 2/3  ABC: a small LSTM on the folk tunes that ship with music21 (abc codec, $(DEMO_STEPS) steps)"
	$(RNNMUSIC) train --codec abc --preset tiny --max-steps $(DEMO_STEPS) --out $(DEMO)/folk-run
	$(RNNMUSIC) generate $(DEMO)/folk-run -o $(DEMO)/tune.abc --num 3 --temperature 0.9 --seed 1
	@echo "== 3/3  Tab: the first tune fingered for guitar (tab codec): ASCII tab, Guitar Pro, MIDI"
	$(RNNMUSIC) convert $(DEMO)/tune-1.abc $(DEMO)/tune-1.txt --codec tab
	$(RNNMUSIC) convert $(DEMO)/tune-1.abc $(DEMO)/tune-1.gp5 --codec tab
	$(RNNMUSIC) convert $(DEMO)/tune-1.abc $(DEMO)/tune-1.mid --codec abc
	@echo "== done: the files are in $(DEMO)/"
	@echo "   chorale-1..3.mid  open in a DAW or MuseScore; listen: $(RNNMUSIC) render $(DEMO)/chorale-1.mid -o chorale-1.wav (needs FluidSynth)"
	@echo "   tune-1..3.abc     open in EasyABC or abcjs; tune-1.mid is the first one as MIDI"
	@echo "   tune-1.txt        ASCII tab; tune-1.gp5 opens in Guitar Pro, TuxGuitar or MuseScore"
	@echo "   learning curves:  $(RNNMUSIC) plot $(DEMO)/chorales-run  (writes loss.png)"

lint: setup
	$(VENV)/bin/ruff check rnnmusic tests benchmarks
	$(VENV)/bin/ruff format --check rnnmusic tests benchmarks

format: setup
	$(VENV)/bin/ruff format rnnmusic tests benchmarks
	$(VENV)/bin/ruff check --fix rnnmusic tests benchmarks

test: lint
	$(PY) -m pytest -n 2 -q --durations=15

test-fast: setup
	$(PY) -m pytest -n 2 -q -m "not slow"

bench: setup
	$(PY) benchmarks/train_speed.py

clean:
	rm -rf $(VENV) $(DEMO) runs .pytest_cache
