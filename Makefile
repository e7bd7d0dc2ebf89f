# Dateline: `make run` serves the site, `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint format install dev-install browser

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

dev-install: $(VENV)/.dev-installed

run: install
	$(FLASK) init-db
	$(FLASK) ensure-admin
	$(FLASK) seed-demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT)/ (the newsroom is at /editor/)"
	$(VENV)/bin/gunicorn --bind $(HOST):$(PORT) --workers 2 --access-logfile - app:app

browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

test: dev-install browser
	$(VENV)/bin/pytest

lint: dev-install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: dev-install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
