# Two commands a newcomer needs:  `make demo` (set up, write samples of the shipped models, train
# a tiny one) and `make test` (set up, lint, run the whole test suite).
# README.md says what each needs and how long it takes.

VENV ?= .venv
PY := $(VENV)/bin/python
RNNMUSIC := $(VENV)/bin/rnnmusic
TORCH_PIN ?= torch==2.13.0
# Where the torch wheel comes from, in addition to the usual index. Plain PyPI gives Linux the
# CUDA build (about 5 GB installed); https://download.pytorch.org/whl/cpu has the 1.3 GB CPU one.
TORCH_INDEX ?=
DEMO ?= demo-out
DEMO_STEPS ?= 300

.PHONY: setup demo test test-fast lint format bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(if $(TORCH_INDEX),--extra-index-url $(TORCH_INDEX)) "$(TORCH_PIN)"
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

# The first files are music: samples of the three trained models that ship inside the package
# (`rnnmusic models` lists them), then a short training run of your own. Each stage says what it
# does; progress bars show the long steps (on a terminal, or a line every 30 s in a log).
# One math thread: small models gain little from a second, and on a busy machine a second
# thread waits for a core (200 steps: 25 s with one thread, 137 s with two, at load 10 on 2 cores).
demo: export OMP_NUM_THREADS ?= 1
demo: setup
	@rm -rf $(DEMO)
	@echo "== rnnmusic demo: samples of the three shipped models, then a model of your own (2-4 minutes on 2 cores)"
	@echo "== 1/4  MIDI: four-part chorales from the model trained on Bach's chorales (midi-events codec)"
	$(RNNMUSIC) generate chorales -o $(DEMO)/chorale.mid --num 3 --seed 1
	@echo "== 2/4  ABC: folk tunes from the model trained on ~13,000 tunes (abc codec), the first also as MIDI"
	$(RNNMUSIC) generate folk -o $(DEMO)/tune.abc --num 3 --seed 1
	$(RNNMUSIC) convert $(DEMO)/tune-1.abc $(DEMO)/tune-1.mid --codec abc
	@echo "== 3/4  Tab: guitar melodies from the model trained on fingered folk tunes (tab codec): Guitar Pro and ASCII tab"
	$(RNNMUSIC) generate tabs -o $(DEMO)/riff.gp5 --num 2 --seed 1
	$(RNNMUSIC) generate tabs -o $(DEMO)/riff.txt --num 2 --seed 1
	@echo "== 4/4  Your own: $(DEMO_STEPS) steps of the tiny preset on the folk tunes (a minute or two; the shipped ones trained for hours)"
	$(RNNMUSIC) train --codec abc --preset tiny --max-steps $(DEMO_STEPS) --out $(DEMO)/my-folk-run
	$(RNNMUSIC) generate $(DEMO)/my-folk-run -o $(DEMO)/my-tune.abc --num 2 --seed 1
	@echo "== done: the files are in $(DEMO)/"
	@echo "   chorale-1..3.mid  open in a DAW or MuseScore; listen: $(RNNMUSIC) render $(DEMO)/chorale-1.mid -o chorale-1.wav (needs FluidSynth)"
	@echo "   tune-1..3.abc     open in EasyABC or abcjs; tune-1.mid is the first one as MIDI"
	@echo "   riff-1..2.gp5     open in Guitar Pro, TuxGuitar or MuseScore; riff-1..2.txt are the same riffs as ASCII tab"
	@echo "   my-tune-1..2.abc  from your $(DEMO_STEPS)-step model; its learning curve: $(RNNMUSIC) plot $(DEMO)/my-folk-run"
	@echo "   the shipped models, their figures and how they were trained: $(RNNMUSIC) models"

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
