# Dateline: `make run` serves the site, `make test` runs every test.
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app app
HOST ?= 127.0.0.1
PORT ?= 5000
# System packages come from apt; as root directly, otherwise through sudo.
APT := $(if $(filter 0,$(shell id -u)),,sudo) env DEBIAN_FRONTEND=noninteractive apt-get

.PHONY: run test test-postgres soak bench bench-import lighthouse lint format install dev-install system-python browser translations

$(VENV)/.installed: pyproject.toml | system-python
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

system-python:
	@python3 -c 'import ensurepip, venv' 2>/dev/null || \
		{ $(APT) update -qq && $(APT) install -y -qq python3 python3-venv python3-pip; }

browser:
	@command -v chromium >/dev/null || { $(APT) update -qq && $(APT) install -y -qq chromium; }

install: $(VENV)/.installed

dev-install: $(VENV)/.dev-installed

run: install
	$(FLASK) init-db
	$(FLASK) make-renditions
	$(FLASK) ensure-admin
	$(FLASK) seed-demo --if-empty
	@echo "Serving on http://$(HOST):$(PORT)/ (the newsroom is at /editor/)"
	$(VENV)/bin/gunicorn --bind $(HOST):$(PORT) --workers 2 --no-control-socket --access-logfile - app:app

test: dev-install browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The same suite with every test's site on PostgreSQL, in a throwaway database made on the
# server at TEST_DATABASE_URL and dropped afterwards.
TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
test-postgres: dev-install browser
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(VENV)/bin/pytest $(PYTEST_ARGS)

# 60 s of readers, sidebars, searches and editors against gunicorn; writes bench/SOAK.md.
soak: dev-install
	$(PY) bench/soak.py $(SOAK_ARGS)

# Reader pages under wrk at 1,000 and 100,000 articles against a ceiling, page weight and
# budgets; writes its part of bench/RESULTS.md and fails when a budget does.
bench: dev-install browser
	@command -v wrk >/dev/null || { $(APT) update -qq && $(APT) install -y -qq wrk; }
	$(PY) -m bench.bench $(BENCH_ARGS)

# import-wordpress on a generated 10,000-post export: peak memory against a budget, flat
# against 1,000 posts, dry and second runs that change nothing; writes its part of bench/RESULTS.md.
bench-import: dev-install
	$(PY) -m bench.import_memory $(IMPORT_ARGS)

bench/node_modules/.installed: bench/package-lock.json
	@command -v npm >/dev/null || { $(APT) update -qq && $(APT) install -y -qq nodejs npm; }
	cd bench && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Lighthouse (mobile) on the front page and an article; writes its part of bench/RESULTS.md.
lighthouse: dev-install browser bench/node_modules/.installed
	$(PY) bench/lighthouse.py $(LIGHTHOUSE_ARGS)

lint: dev-install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Interface text: extract it from the code (babel.cfg), merge it into each language's catalog
# in blog/translations, and compile the catalogs, which are committed so that a clone runs as is.
# Without line numbers, a catalog changes only when the text does.
BABEL_KEYWORDS := _l lazy_gettext lazy_ngettext:1,2
TRANSLATIONS := blog/translations
translations: install
	$(VENV)/bin/pybabel extract -F babel.cfg $(addprefix -k ,$(BABEL_KEYWORDS)) \
		-c TRANSLATORS: --no-location --sort-output --project Dateline \
		--copyright-holder "the Dateline authors" -o $(TRANSLATIONS)/messages.pot .
	$(VENV)/bin/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) \
		--no-fuzzy-matching --ignore-obsolete
	$(VENV)/bin/pybabel compile -d $(TRANSLATIONS) --statistics

format: dev-install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .
