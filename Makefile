# MedLedger: the two commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 2

.PHONY: install demo test test-sqlite test-postgres lint format bench bench-postgres messages clean

## install: create .venv, install the package with pinned dependencies and front-end libraries (idempotent)
install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## demo: migrate the embedded SQLite database, seed the demo network if empty, serve on :8000
demo: install
	$(BIN)/medledger demo

## test: the whole suite on SQLite, then on PostgreSQL (MEDLEDGER_TEST_POSTGRES_URL)
test: install test-sqlite test-postgres

test-sqlite: install
	MEDLEDGER_TEST_DATABASE=sqlite $(BIN)/pytest -n $(PYTEST_WORKERS) -q

test-postgres: install
	MEDLEDGER_TEST_DATABASE=postgres $(BIN)/pytest -n $(PYTEST_WORKERS) -q

## lint: ruff (lint + format check) and mypy
lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

## bench: performance figures on SQLite, each next to a same-run baseline (bench-postgres: same on PostgreSQL)
## (bench_api.py needs wrk: apt-get install wrk)
bench: install
	$(BIN)/python bench/bench_capture.py --events 20000 --db sqlite
	$(BIN)/python bench/bench_trace.py --db sqlite --edges 1000000
	$(BIN)/python bench/bench_allocation.py --lines 100000
	$(BIN)/python bench/bench_scoring.py --lines 1000000
	$(BIN)/python bench/bench_outbox.py --messages 2000 --threads 4 --db sqlite
	$(BIN)/python bench/bench_api.py --db sqlite

bench-postgres: install
	$(BIN)/python bench/bench_capture.py --events 20000 --db postgres
	$(BIN)/python bench/bench_trace.py --db postgres --edges 1000000
	$(BIN)/python bench/bench_api.py --db postgres

## messages: extract every msgid (error messages in code + templates) and update the catalogues
messages: install
	$(BIN)/pybabel extract -F babel.cfg --sort-output -w 100 --project MedLedger \
		--copyright-holder "MedLedger contributors" -o src/medledger/locale/messages.pot .
	$(BIN)/pybabel update -i src/medledger/locale/messages.pot -d src/medledger/locale \
		-l zh_Hans -w 100 --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) node_modules var .pytest_cache .mypy_cache .ruff_cache
