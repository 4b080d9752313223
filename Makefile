# Every target creates or reuses .venv and installs what it needs; a stamp keeps reruns fast.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: install test lint format openapi bench demo screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The browser tests inject axe-core, pinned in tests/browser/package-lock.json.
AXE := tests/browser/node_modules/axe-core/axe.min.js

$(AXE): tests/browser/package-lock.json
	cd tests/browser && npm ci --no-audit --no-fund --loglevel=error

test: $(STAMP) $(AXE)
	$(BIN)/pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# A PNG of each console page at 1280 and 390 px into docs/screenshots/ (needs Debian's chromium).
screenshots: $(STAMP)
	$(BIN)/python -m tests.browser.screenshots

openapi: $(STAMP)
	$(BIN)/pmbridge openapi

# The whole service on one machine on a generated agency; Ctrl-C stops it (DURATION=60 bounds it).
demo: $(STAMP)
	$(BIN)/pmbridge demo $(if $(DURATION),--duration $(DURATION))

# Benchmarks print their numbers; docs/BENCHMARKS.md records them with these commands.
bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/bench_cli_startup.py
	$(BIN)/python bench/bench_sandbox_search.py
	$(BIN)/python bench/bench_jira_sync.py --issues 10000 --repeat 5
	$(BIN)/python bench/bench_jira_sync.py --issues 100000
	$(BIN)/python bench/bench_trello_sync.py --boards 20 --cards 500
	$(BIN)/python bench/bench_rules.py
	$(BIN)/python bench/bench_feed.py
	$(BIN)/python bench/bench_feed.py --database postgresql
	$(BIN)/python bench/bench_feed.py --bare fastapi
	$(BIN)/python bench/bench_webhooks.py
	$(BIN)/python bench/bench_webhooks.py --database postgresql
	$(BIN)/python bench/bench_webhooks.py --bare fastapi
	$(BIN)/python bench/bench_intake_inprocess.py
	$(BIN)/python bench/bench_latency.py --changes 100 --rate 5
