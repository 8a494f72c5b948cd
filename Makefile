# Two commands do all the set-up on a fresh machine: `make plan` and `make test`.
# Both create ./venv on first use (the same virtualenv Pulumi.yaml tells the CLI to use).
# `make plan` installs only the runtime (requirements.txt) and the `alex-db` command
# (`pip install -e .`); `make test` and `make lint` add the dev tools (requirements-dev.txt).
# pip runs without --quiet so a first install shows what it is downloading.
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
STACK ?= dev
# Extra flags for `make plan`, e.g. ARGS="--config minCapacity=0 --diff before.json".
ARGS ?=
PIP := $(BIN)/pip install --disable-pip-version-check
RUNTIME := $(VENV)/.runtime-installed
DEV := $(VENV)/.dev-installed

.PHONY: plan test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): $(BIN)/python requirements.txt pyproject.toml
	$(PIP) -r requirements.txt -e .
	touch $@

$(DEV): $(RUNTIME) requirements-dev.txt policy/requirements.txt
	$(PIP) -r requirements-dev.txt
	touch $@

plan: $(RUNTIME)
	$(BIN)/alex-db plan --stack $(STACK) $(ARGS)

# One worker per core; --dist loadscope keeps each module's shared fixtures (a mocked program
# run, a PostgreSQL server) in one worker instead of building them twice.
test: $(DEV)
	$(BIN)/python -m pytest -n auto --dist loadscope

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(DEV)
	$(BIN)/python benchmarks/bench_plan.py
	$(BIN)/python benchmarks/bench_local.py
	$(BIN)/python benchmarks/bench_local_load.py
	$(BIN)/python benchmarks/bench_named_parameters.py
	$(BIN)/python benchmarks/bench_suite.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
