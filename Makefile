# micromoments — every target builds what it needs from the lock; nothing is installed by hand.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements-dev.lock pyproject.toml | sha256sum | cut -c1-12)
PIP := $(BIN)/python -m pip --disable-pip-version-check
# The demo has a venv of its own with only what it needs: the runtime dependencies and the
# `local` extra (moto, werkzeug), from requirements-demo.lock (hashed like the others), not
# the linters, type checker, test and browser tooling of the dev lock.
DEMO_VENV := .venv-demo
DEMO_BIN := $(DEMO_VENV)/bin
DEMO_STAMP := $(DEMO_VENV)/.installed-$(shell cat requirements-demo.lock pyproject.toml | sha256sum | cut -c1-12)
DEMO_PIP := $(DEMO_BIN)/python -m pip --disable-pip-version-check
# checkov has a venv of its own: its pins (boto3 1.35, packaging 23, networkx 2) would
# drag the dev venv and the Lambda requirements back by years.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cat requirements-checkov.lock | sha256sum | cut -c1-12)
# --skip-download: no call to Prisma Cloud (CI reaches only the package registries).
CHECKOV := CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov -f template.yaml \
	--framework cloudformation --compact --quiet --skip-download
# The browser tests drive Debian's Chromium (Playwright downloads no browser).
CHROMIUM := /usr/bin/chromium

.PHONY: help venv demo serve test test-clocks lint security typecheck unit browser-deps bench lock clean

help:
	@echo "make demo   run the serverless pipeline on local stand-ins (moto, Calendar server)"
	@echo "make serve  the opt-in site on the same stand-ins, http://127.0.0.1:8765/ (Ctrl-C stops)"
	@echo "make test   lint (ruff, cfn-lint, checkov), type-check and run every test"
	@echo "make test-clocks  every test again on a Saturday, a Sunday night, a DST night, New Year's Eve"
	@echo "make security  checkov on template.yaml: fails on any check not fixed or skipped"
	@echo "make bench  run the benchmarks and write docs/benchmarks.md"
	@echo "make lock   re-resolve the locks: dev, functions/requirements.txt, demo and checkov"

# The lock installs with --require-hashes; the project itself (editable, built here) has no
# hash to check, so it is a second call that resolves nothing (--no-deps).
$(STAMP): requirements-dev.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "micromoments needs Python 3.11 or newer; found " + sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "cannot create $(VENV): install python3-venv (apt-get install -y python3-venv)"; exit 1; }
	$(PIP) install --quiet --require-hashes -r requirements-dev.lock
	$(PIP) install --quiet --no-build-isolation --no-deps -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

# Step lines, and pip's own line per package (its bars too, on a terminal): the first
# `make demo` downloads about 80 packages and shows each one as it goes.
$(DEMO_STAMP): requirements-demo.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "micromoments needs Python 3.11 or newer; found " + sys.version.split()[0])'
	@echo "make demo [1/3]: a virtual environment for the demo in $(DEMO_VENV) (once)"
	@test -x $(DEMO_BIN)/python || $(PYTHON) -m venv $(DEMO_VENV) || { echo "cannot create $(DEMO_VENV): install python3-venv (apt-get install -y python3-venv)"; exit 1; }
	@echo "make demo [2/3]: installing $$(grep -c '^[a-z]' requirements-demo.lock) packages from requirements-demo.lock (hashes checked)"
	@$(DEMO_PIP) install --require-hashes --progress-bar on -r requirements-demo.lock
	@echo "make demo [3/3]: micromoments itself (editable)"
	@$(DEMO_PIP) install --quiet --no-build-isolation --no-deps -e .
	@rm -f $(DEMO_VENV)/.installed-*
	@touch $@

$(CHECKOV_STAMP): requirements-checkov.lock
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV) || { echo "cannot create $(CHECKOV_VENV): install python3-venv (apt-get install -y python3-venv)"; exit 1; }
	$(CHECKOV_VENV)/bin/python -m pip --disable-pip-version-check install --quiet \
		--require-hashes -r requirements-checkov.lock
	@rm -f $(CHECKOV_VENV)/.installed-*
	@touch $@

venv: $(STAMP)

demo: $(DEMO_STAMP)
	$(DEMO_BIN)/micromoments demo

serve: $(DEMO_STAMP)
	$(DEMO_BIN)/micromoments serve

lint: $(STAMP) $(CHECKOV_STAMP)
	$(BIN)/ruff check functions tests bench
	$(BIN)/ruff format --check functions tests bench
	$(BIN)/cfn-lint template.yaml
	$(CHECKOV)

# Every failed check is either fixed in template.yaml or skipped there, on its resource,
# with the reason (Metadata.checkov.skip; docs/deploy.md "Security checks").
security: $(CHECKOV_STAMP)
	$(CHECKOV)

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

# The whole suite again with the wall clock of pytest and of every Python process it starts
# moved to the next Saturday noon, Sunday night, night Europe's clocks change and New Year's
# Eve (tests/clock): no test may pass or fail by the day it runs on. CI runs it after test.
test-clocks: $(STAMP) browser-deps
	@for clock in $$($(BIN)/python tests/clock/moments.py); do \
		echo "== make test-clocks: every test with the clock at $$clock"; \
		PYTHONPATH=tests/clock TEST_CLOCK=$$clock $(BIN)/pytest -q -p no:cacheprovider \
			-W "ignore:Module already imported:pytest.PytestAssertRewriteWarning" \
			|| { echo "make test-clocks: failed with the clock at $$clock" >&2; exit 1; }; \
	done

bench: $(STAMP)
	$(BIN)/python bench/run.py

lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes \
		-o requirements-dev.lock -q
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes \
		-c requirements-dev.lock -o functions/requirements.txt -q --no-header
	echo 'setuptools==80.9.0' | $(BIN)/uv pip compile pyproject.toml - --extra local \
		--python-version 3.11 --generate-hashes -c requirements-dev.lock \
		-o requirements-demo.lock -q
	echo 'checkov>=3.3' | $(BIN)/uv pip compile - --python-version 3.11 --generate-hashes \
		-o requirements-checkov.lock -q

clean:
	rm -rf $(VENV) $(DEMO_VENV) $(CHECKOV_VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis demo-out test-artifacts
