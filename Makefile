# The commands of the README. Everything else is done by the `bosai` command.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin

.PHONY: demo test test-fast

# The dashboard with the local identity provider (:9400) and reference city OS (:8700) beside
# it, sharing a client secret made up at start; Ctrl-C stops all three.
demo: $(VENV)/.installed
	$(BIN)/bosai db upgrade
	$(BIN)/bosai demo --if-empty --evacuation
	$(BIN)/bosai serve-demo

test: $(VENV)/.installed-dev
	$(BIN)/pytest

# The inner loop: no browser, no PostgreSQL, nothing marked slow (markers in pyproject.toml).
test-fast: $(VENV)/.installed-dev
	$(BIN)/pytest -m "not browser and not pg and not slow"

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed
