# Everything runs in a project-local virtual environment that these targets create and keep up to date.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP) ## Train demo models, log them, and start the server on http://127.0.0.1:5170
	$(BIN)/ridgeline quickstart

lint: $(STAMP) ## ruff (lint and format) and mypy --strict
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

unit: $(STAMP) ## The test suite alone
	$(BIN)/python -m pytest -q

test: lint unit ## Lint, type-check and run the whole test suite

bench: $(STAMP) ## Benchmarks beside MLflow (installs MLflow into its own venv)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
