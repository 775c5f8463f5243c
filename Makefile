# berdaya: two commands do all the set-up on a fresh machine.
#   make run    create .venv (finding a Python >= 3.12), install, run the observed scenario
#   make test   the whole test suite (lint and import layers included); .ci/run calls it
#   make viz    serve the app on http://127.0.0.1:$(PORT) (berdaya viz)
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
SCENARIO ?= kedungkandang-2008
SEED    ?= 1
PORT    ?= 8765

.PHONY: run test lint bench venv clean viz

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $$(sh .ci/find-python) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/berdaya run --scenario $(SCENARIO) --seed $(SEED)

test: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	sh .ci/lint-imports $(PY)
	$(PY) -m pytest

viz: $(STAMP)
	$(VENV)/bin/berdaya viz --port $(PORT)

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
