# Two commands a newcomer needs:  `make demo` (set up, train on the built-in corpus, write samples)
# and `make test` (set up, lint, run the whole test suite).

VENV ?= .venv
PY := $(VENV)/bin/python
RNNMUSIC := $(VENV)/bin/rnnmusic
# The CPU build of torch lies on this disk; install it first so `torch>=2.2` pulls nothing bigger.
TORCH_PIN ?= torch==2.13.0
DEMO ?= demo-out

.PHONY: setup demo test test-fast lint format bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_PIN)"
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

demo: setup
	rm -rf $(DEMO)
	@echo "== 1/3  MIDI: a small LSTM on the Bach chorales that ship with music21 (midi-events codec)"
	$(RNNMUSIC) train --codec midi-events --preset tiny --max-steps 400 --out $(DEMO)/chorales-run --no-progress
	$(RNNMUSIC) generate $(DEMO)/chorales-run -o $(DEMO)/chorale.mid --num 3 --temperature 0.9 --seed 1
	@echo "== 2/3  ABC: a small LSTM on the folk tunes that ship with music21 (abc codec)"
	$(RNNMUSIC) train --codec abc --preset tiny --max-steps 400 --out $(DEMO)/folk-run --no-progress
	$(RNNMUSIC) generate $(DEMO)/folk-run -o $(DEMO)/tune.abc --num 3 --temperature 0.9 --seed 1
	@echo "== 3/3  Tab: the first tune fingered for guitar (tab codec): ASCII tab, Guitar Pro, MIDI"
	$(RNNMUSIC) convert $(DEMO)/tune-1.abc $(DEMO)/tune-1.txt --codec tab
	$(RNNMUSIC) convert $(DEMO)/tune-1.abc $(DEMO)/tune-1.gp5 --codec tab
	$(RNNMUSIC) convert $(DEMO)/tune-1.abc $(DEMO)/tune-1.mid --codec abc
	@echo "demo files are in $(DEMO)/ (open the .mid in a DAW, the .abc in EasyABC/abcjs, the .gp5 in Guitar Pro/TuxGuitar/MuseScore)"

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
