# Two commands on a fresh machine: `make run` (set up + main job) and `make test` (set up + all tests).
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install sync-check nbtest pytest clean-state

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "python3.11 not found"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -U pip setuptools wheel

# Reinstall when the dependency list or constraints change.
$(STAMP): $(BIN)/python settings.ini setup.py constraints.txt
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The main job. For now: ingest the local NSE data and print the data status.
run: install
	$(BIN)/aitrader main

# Library in sync with the notebooks, notebooks clean, then the notebook tests and pytest.
sync-check: install
	@before=$$(git status --porcelain | md5sum); \
	 $(BIN)/nbdev_export && $(BIN)/nbdev_clean; \
	 after=$$(git status --porcelain | md5sum); \
	 if [ "$$before" != "$$after" ]; then \
	   echo "FAIL: nbdev_export/nbdev_clean changed files: the library is out of sync with nbs/ or notebooks are unclean:"; \
	   git status --short; exit 1; fi; \
	 echo "sync-check: library in sync, notebooks clean"

nbtest: install
	OMP_NUM_THREADS=1 NUMBA_NUM_THREADS=1 AITRADER_HOME=$$(mktemp -d) $(BIN)/nbdev_test --n_workers 2 --do_print --timing

pytest: install
	OMP_NUM_THREADS=1 AITRADER_HOME=$$(mktemp -d) $(BIN)/python -m pytest

test: sync-check nbtest pytest
