# capi-packages: every CI step is a target. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CAPI_HOST ?= 127.0.0.1
CAPI_PORT ?= 8080
CAPI_DATA_DIR ?= ./var
export CAPI_HOST CAPI_PORT CAPI_DATA_DIR
# Test processes in parallel: one per core by default (the suite starts real servers, so more buys nothing).
JOBS ?= auto
SRC := src tests benchmarks

.DEFAULT_GOAL := help
.PHONY: help install lock fmt lint typecheck test test-fast test-postgres check revision run worker migrate bench bench-quick soak fuzz clean
# The part of the suite that exercises SQL most; run again on PostgreSQL by test-postgres.
PG_TESTS ?= tests/api/test_database_pool.py tests/api/test_list_packages.py tests/api/test_list_cache.py tests/api/test_permissions.py tests/api/test_read_update_delete.py \
	tests/bits_api/test_processing.py tests/bits_api/test_resource_matches.py tests/jobs \
	tests/audit_events/test_transactions.py tests/audit_events/test_list_queries.py tests/audit_events/test_visibility.py \
	tests/process/test_migration_race.py

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(BIN)/capi-packages: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev,postgres,s3]'
	@touch $@

install: $(BIN)/capi-packages ## Create the virtualenv and install the project with its dev tools, at the locked versions

lock: ## Re-resolve requirements.lock from the ranges in pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --extra dev --extra postgres --extra s3 --unsafe-package capi-packages --unsafe-package pip --unsafe-package setuptools \
		--output-file requirements.lock pyproject.toml

fmt: install ## Format the code and apply the safe lint fixes
	$(BIN)/ruff format $(SRC)
	$(BIN)/ruff check --fix $(SRC)

lint: install ## ruff lint, the formatter check and the import contracts
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)
	$(BIN)/lint-imports

typecheck: install ## mypy --strict on src/
	$(BIN)/mypy

test: install ## Run the test suite with branch coverage and its floor
	$(BIN)/python -m pytest -q -n $(JOBS) --cov --cov-report=term --cov-fail-under=$$(sed -n 's/^fail_under = //p' pyproject.toml)

test-fast: install ## Run the tests, stopping at the first failure, without coverage
	$(BIN)/python -m pytest -x -q

test-postgres: install ## Start a local PostgreSQL and run the SQL-heavy tests on it
	CAPI_TEST_DATABASE_URL=$$(scripts/start-postgres.sh) $(BIN)/python -m pytest -q -n $(JOBS) $(PG_TESTS)

check: lint typecheck test ## Everything CI checks: lint, formatter, import contracts, types, tests with coverage

revision: install ## Add a migration: make revision m="what changes"
	@test -n "$(m)" || { echo 'usage: make revision m="what changes"'; exit 2; }
	$(BIN)/python -m capi_packages.db.migrate revision "$(m)"

run: install ## Serve on $CAPI_HOST:$CAPI_PORT with SQLite + local blobstore under $CAPI_DATA_DIR
	$(BIN)/capi-packages serve

worker: install ## Run a separate job worker on the same data dir
	$(BIN)/capi-packages worker

migrate: install ## Upgrade the database schema
	$(BIN)/capi-packages migrate

bench: install ## Run the benchmarks: one row per scenario, ratios against baselines from the same run
	$(BIN)/python -m benchmarks

bench-quick: install ## The same benchmark code at small sizes (about a minute): proves it runs, judges nothing
	$(BIN)/python -m benchmarks --quick

soak: install ## 60 s of mixed traffic on 2 API + 2 worker processes (PostgreSQL): 5xx, lost creates, double-run jobs must be 0
	CAPI_TEST_DATABASE_URL=$${CAPI_TEST_DATABASE_URL:-$$(scripts/start-postgres.sh)} $(BIN)/python -m benchmarks.soak

fuzz: install ## schemathesis against our own /openapi.json (bounded examples): no request may get a 5xx
	BIN=$(BIN) scripts/fuzz.sh

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var
