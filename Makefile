# micromoments — every target builds what it needs from the lock; nothing is installed by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | sha256sum | cut -c1-12)
PIP := $(BIN)/python -m pip --disable-pip-version-check
# The browser tests drive Debian's Chromium (Playwright downloads no browser).
CHROMIUM := /usr/bin/chromium

.PHONY: help venv demo serve test lint typecheck unit browser-deps bench lock clean

help:
	@echo "make demo   run the serverless pipeline on local stand-ins (moto, Calendar server)"
	@echo "make serve  the opt-in site on the same stand-ins, http://127.0.0.1:8765/ (Ctrl-C stops)"
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

serve: $(STAMP)
	$(BIN)/micromoments serve

lint: $(STAMP)
	$(BIN)/ruff check functions tests bench
	$(BIN)/ruff format --check functions tests bench
	$(BIN)/cfn-lint template.yaml

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP) browser-deps
	$(BIN)/pytest -q

# Debian's Chromium for tests/browser, installed with apt-get when it is missing (as root, or
# through sudo without a password); anything else is a clear error, never a skipped test.
browser-deps:
	@test -x $(CHROMIUM) && exit 0; \
	echo "installing Debian's Chromium for the browser tests: apt-get install -y chromium"; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"; \
	else echo "the browser tests need $(CHROMIUM) and installing it needs root: run" \
		"'sudo apt-get install -y chromium', then make test again" >&2; exit 1; fi; \
	command -v apt-get >/dev/null 2>&1 || { echo "no apt-get here: install Chromium so that" \
		"$(CHROMIUM) exists, then make test again" >&2; exit 1; }; \
	$$sudo apt-get update -q \
		&& $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
		|| { echo "apt-get could not install chromium (see above)" >&2; exit 1; }; \
	test -x $(CHROMIUM) || { echo "chromium is installed but $(CHROMIUM) is missing" >&2; exit 1; }

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python bench/run.py

lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements-dev.lock -q
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 -c requirements-dev.lock \
		-o functions/requirements.txt -q --no-header

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis demo-out test-artifacts
