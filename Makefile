# The two commands of the README. Everything else is done by the `bosai` command.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin

.PHONY: demo test

demo: $(VENV)/.installed
	$(BIN)/bosai db upgrade
	$(BIN)/bosai demo --if-empty
	$(BIN)/streamlit run dashboard/app.py --server.port 8501

test: $(VENV)/.installed-dev
	$(BIN)/pytest

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed
