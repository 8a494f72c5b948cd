# Two commands do all the set-up on a fresh machine: `make plan` and `make test`.
# Both create ./venv on first use (the same virtualenv Pulumi.yaml tells the CLI to use).
PYTHON ?= python3
VENV := venv
BIN := $(VENV)/bin
STACK ?= dev
INSTALLED := $(VENV)/.installed

.PHONY: plan test lint bench clean

$(INSTALLED): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

plan: $(INSTALLED)
	$(BIN)/python -m alex_db plan --stack $(STACK)

test: $(INSTALLED)
	$(BIN)/python -m pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

bench: $(INSTALLED)
	$(BIN)/python benchmarks/bench_plan.py
	$(BIN)/python benchmarks/bench_local.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
