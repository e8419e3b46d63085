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
	$(RNNMUSIC) train --codec text --preset tiny --max-steps 600 --out $(DEMO)/text-run --no-progress
	$(RNNMUSIC) generate $(DEMO)/text-run -o $(DEMO)/sample.txt --num 3 --temperature 0.8 --seed 1
	@echo "demo samples are in $(DEMO)/"

lint: setup
	$(VENV)/bin/ruff check rnnmusic tests benchmarks
	$(VENV)/bin/ruff format --check rnnmusic tests benchmarks

format: setup
	$(VENV)/bin/ruff format rnnmusic tests benchmarks
	$(VENV)/bin/ruff check --fix rnnmusic tests benchmarks

test: lint
	$(PY) -m pytest -n 2 -q

test-fast: setup
	$(PY) -m pytest -n 2 -q -m "not slow"

bench: setup
	$(PY) benchmarks/train_speed.py

clean:
	rm -rf $(VENV) $(DEMO) runs .pytest_cache
