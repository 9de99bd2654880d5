# micromoments — every target builds what it needs from the lock; nothing is installed by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | sha256sum | cut -c1-12)
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: help venv demo test lint typecheck unit bench lock clean

help:
	@echo "make demo   run the serverless pipeline on local stand-ins (moto, Calendar server)"
	@echo "make test   lint, type-check and run every test"
	@echo "make bench  run the benchmarks and write docs/benchmarks.md"
	@echo "make lock   re-resolve requirements-dev.lock and functions/requirements.txt"

$(STAMP): requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "micromoments needs Python 3.11 or newer; found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "cannot create $(VENV): install python3-venv (apt-get install -y python3-venv)"; exit 1; }
	$(PIP) install --quiet -r requirements-dev.lock
	$(PIP) install --quiet --no-build-isolation --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/micromoments demo

lint: $(STAMP)
	$(BIN)/ruff check functions tests bench
	$(BIN)/ruff format --check functions tests bench
	$(BIN)/cfn-lint template.yaml

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/run.py

lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements-dev.lock -q
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 -c requirements-dev.lock \
		-o functions/requirements.txt -q --no-header

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis demo-out
