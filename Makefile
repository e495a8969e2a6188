# Web events on Spark with dbt. `make run` and `make test` are all a newcomer
# needs: both create the virtualenv on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EVENTS ?= data/source_event_data.json
EXPORT_DIR ?= exports
TARGET ?= local
FULL_REFRESH ?=
VARS ?=
PYTEST_ARGS ?=
DOCS_PORT ?= 8080

# The values a user gives (paths above all) reach the commands through the
# environment, never as shell text: `$(value ...)` keeps make from expanding a
# `$` in them, and a recipe names only "$$WEB_EVENTS_..." in double quotes, so
# quotes, spaces, `;` and backticks stay literal.
export WEB_EVENTS_HOME := $(CURDIR)
export WEB_EVENTS_TARGET = $(value TARGET)
DBT := $(BIN)/dbt
DBT_FLAGS := --profiles-dir profiles --target "$$WEB_EVENTS_TARGET"

.DEFAULT_GOAL := help
.PHONY: help setup browser run unit-test test lint clean bench docs docs-serve freshness lint-sql lint-dbt

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed ## Create .venv with the pinned dbt, dbt-spark and pyspark

# scripts/pipeline.py reads its options' defaults from these variables.
run: export WEB_EVENTS_EVENTS = $(value EVENTS)
run: export WEB_EVENTS_EXPORT_DIR = $(value EXPORT_DIR)
run: export WEB_EVENTS_FULL_REFRESH = $(value FULL_REFRESH)
run: export WEB_EVENTS_VARS = $(value VARS)
run: setup ## Build, test the data, export CSVs (EVENTS=<file|dir|glob> EXPORT_DIR=<dir> TARGET=local|thrift FULL_REFRESH=1 VARS='{...}')
	$(BIN)/python scripts/pipeline.py run

unit-test: setup ## dbt unit tests of every SPEC rule and of the load ledger (after a first `make run`: dbt reads the input columns' types from the tables)
	$(DBT) test $(DBT_FLAGS) --select 'test_type:unit'

# The docs-site test renders the site in headless Chromium (Debian's package).
# As root on Debian, `make test` installs it; otherwise it stops at once with
# the command that does. CHROMIUM=<path> points at another build.
browser:
	@if [ -n "$$CHROMIUM" ] || command -v chromium >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing chromium with apt-get (the docs-site test renders the site in it)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "make test needs Chromium for the docs-site test: sudo apt-get install -y chromium (or set CHROMIUM=<path>)" >&2; \
		exit 1; \
	fi

test: setup browser ## Everything: dbt unit tests, then the pytest suite (end to end on real Spark)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: setup lint-sql lint-dbt ## ruff on the Python, sqlfluff on the SQL, dbt-score on the dbt metadata
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The dbt templater compiles every model, and an incremental model's compile
# queries its own table: lint in an empty schema of its own, so it compiles the
# same on every machine and never reads (or trips over) a user's tables.
lint-sql: setup ## sqlfluff (.sqlfluff: dbt templater, sparksql, house style); `sqlfluff fix` repairs layout
	WEB_EVENTS_SCHEMA=web_events_lint $(BIN)/sqlfluff lint

lint-dbt: setup ## dbt-score on the manifest (thresholds in pyproject.toml)
	$(DBT) parse $(DBT_FLAGS) --quiet
	$(BIN)/dbt-score lint --manifest target/manifest.json

# The docs' column types come from the tables (dbt's catalog): with no
# finished run for this target and schema yet, build the sample first.
docs: setup ## Generate the docs site: target/index.html (to serve) and target/static_index.html (one file); builds the sample first if nothing was built yet
	@test -f "$${WEB_EVENTS_RUN_DIR:-.run}/$$WEB_EVENTS_TARGET-$${WEB_EVENTS_SCHEMA:-web_events}/finished.json" || \
		{ echo "No tables yet: building the sample first (make run), so that the docs show every column's type"; \
		  $(MAKE) --no-print-directory run; }
	$(DBT) docs generate $(DBT_FLAGS) --static

docs-serve: setup ## Serve the docs on http://127.0.0.1:8080 (DOCS_PORT=<port>); generates them first if missing
	@test -f target/index.html -a -f target/catalog.json || $(MAKE) docs
	$(DBT) docs serve $(DBT_FLAGS) --host 127.0.0.1 --port $(DOCS_PORT) --no-browser

freshness: export WEB_EVENTS_EVENTS = $(value EVENTS)
freshness: setup ## Check how old the newest events file is (EVENTS=...; thresholds: the freshness_*_after_hours vars)
	$(DBT) source freshness $(DBT_FLAGS) --vars "$$($(BIN)/python -c 'import json, os; print(json.dumps({"events_path": os.environ["WEB_EVENTS_EVENTS"]}))')"

clean: ## Remove build outputs (tables, metastore, exports, logs, run state)
	rm -rf target logs spark-warehouse metastore_db derby.log exports .pytest_cache .run

bench: setup ## Benchmark against a plain PySpark job (BENCH_EVENTS=2000000, BENCH_REPEAT=1); writes benchmarks/results.md
	$(BIN)/python benchmarks/run_benchmark.py --events $(or $(BENCH_EVENTS),2000000) --repeat $(or $(BENCH_REPEAT),1)

# A Spark Thrift server for `make run TARGET=thrift`: scripts/thrift-server.sh,
# the same script docker-compose runs. THRIFT_PORT (default 10000) and the other
# THRIFT_* settings are listed at the top of the script; its metastore,
# warehouse, log and pid file live in .thrift/. An address beyond loopback
# (THRIFT_BIND_HOST) needs THRIFT_AUTH, or THRIFT_ALLOW_UNAUTHENTICATED=1.
.PHONY: thrift-up thrift-down thrift-status
thrift-up: setup ## Start a local Spark Thrift server on 127.0.0.1:10000 (THRIFT_PORT=...)
	scripts/thrift-server.sh start

thrift-down: ## Stop the server `make thrift-up` started (and nothing else)
	scripts/thrift-server.sh stop

thrift-status: ## Is the local Thrift server up?
	scripts/thrift-server.sh status
