# capi-packages: every CI step is a target. `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CAPI_HOST ?= 127.0.0.1
CAPI_PORT ?= 8080
CAPI_DATA_DIR ?= ./var
export CAPI_HOST CAPI_PORT CAPI_DATA_DIR

.DEFAULT_GOAL := help
.PHONY: help install run worker migrate test test-fast bench lint clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/capi-packages: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
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

bench: install ## Run the benchmarks (ratios against a baseline measured in the same run)
	$(BIN)/python -m benchmarks

clean: ## Remove the virtualenv and local data
	rm -rf $(VENV) var
