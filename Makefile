# capi-packages: every CI step is a target. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CAPI_HOST ?= 127.0.0.1
CAPI_PORT ?= 8080
CAPI_DATA_DIR ?= ./var
export CAPI_HOST CAPI_PORT CAPI_DATA_DIR

.DEFAULT_GOAL := help
.PHONY: help install run worker migrate test test-fast test-postgres bench lint clean
# The part of the suite that exercises SQL most; run again on PostgreSQL by test-postgres.
PG_TESTS ?= tests/api/test_list_packages.py tests/api/test_permissions.py tests/api/test_read_update_delete.py \
	tests/bits_api/test_processing.py tests/bits_api/test_resource_matches.py tests/jobs

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/capi-packages: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,postgres,s3]'
	@touch $@

install: $(BIN)/capi-packages ## Create the virtualenv and install the project with its test tools

run: install ## Serve on $CAPI_HOST:$CAPI_PORT with SQLite + local blobstore under $CAPI_DATA_DIR
	$(BIN)/capi-packages serve

worker: install ## Run a separate job worker on the same data dir
	$(BIN)/capi-packages worker

migrate: install ## Upgrade the database schema
	$(BIN)/capi-packages migrate

test: install ## Run the test suite
	$(BIN)/python -m pytest -q

test-fast: install ## Run the tests, stopping at the first failure
	$(BIN)/python -m pytest -x -q

test-postgres: install ## Start a local PostgreSQL and run the SQL-heavy tests on it
	CAPI_TEST_DATABASE_URL=$$(scripts/start-postgres.sh) $(BIN)/python -m pytest -q $(PG_TESTS)

bench: install ## Run the benchmarks (ratios against a baseline measured in the same run)
	$(BIN)/python -m benchmarks

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var
