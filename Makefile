# Roster: `make run` serves the demo, `make test` runs every test, `make bench` measures.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
# Where people open Roster: the base of every link in mail (see README, "Running it for an agency").
ROSTER_URL ?= http://127.0.0.1:$(PORT)
export FLASK_APP := wsgi

.PHONY: install run test test-unit test-e2e test-pds bench loadtest vendor-js clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

$(VENV)/.installed-loadtest: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,loadtest]'
	touch $@

install: $(VENV)/.installed

# The local Bluesky network (a PDS from Bluesky's @atproto/dev-env, on Node.js) the Bluesky tests publish
# to: installed again when its lock file changes. Without node and npm those tests skip and say why.
PDS_DIR := tests/pds
$(PDS_DIR)/node_modules/.installed: $(PDS_DIR)/package-lock.json
	@if command -v node >/dev/null && command -v npm >/dev/null; then \
	  cd $(PDS_DIR) && npm ci --no-audit --no-fund && touch node_modules/.installed; \
	else echo "Node.js and npm are not installed: the Bluesky tests will be skipped."; fi

test-pds: $(PDS_DIR)/node_modules/.installed

run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed
	@echo ""
	@echo "Roster is running at $(ROSTER_URL)/  (Ctrl-C stops it)"
	@# The web server and the background worker (Procfile), started and stopped together. Two malloc
	@# arenas in the web server: threads reading large uploads return memory instead of keeping it each.
	PATH="$(CURDIR)/$(BIN):$$PATH" ROSTER_URL=$(ROSTER_URL) ROSTER_PORT=$(PORT) $(BIN)/honcho start --no-colour -f Procfile

# Test workers: one per CPU by default (`make test WORKERS=1` runs everything in one process).
WORKERS ?= auto

test: install test-pds
	@export CHROMIUM_PATH="$$(scripts/find-chromium.sh)"; \
	  echo "Browser tests use: $${CHROMIUM_PATH:-the Chromium bundled with Playwright}"; \
	  $(BIN)/pytest -n $(WORKERS) --dist worksteal --durations=25

test-unit: install test-pds
	$(BIN)/pytest -n $(WORKERS) --dist worksteal tests

test-e2e: install test-pds
	CHROMIUM_PATH="$$(scripts/find-chromium.sh)" $(BIN)/pytest -n $(WORKERS) --dist worksteal e2e

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench

# Roster as production runs it (gunicorn, two workers, PostgreSQL and Redis on 127.0.0.1) under Locust.
loadtest: $(VENV)/.installed-loadtest
	$(BIN)/python -m bench.loadtest

vendor-js:
	scripts/vendor-js.sh

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis bench-results $(PDS_DIR)/node_modules
