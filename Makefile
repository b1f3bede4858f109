# Two commands: `make run` and `make test`. Everything else here serves them.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo $$p; break; }; done)
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test install migrate lint format messages check-python clean mypy-shrink

check-python:
	@if [ -z "$(PYTHON)" ]; then echo "Followup needs Python 3.11 or newer on PATH." >&2; exit 1; fi

$(STAMP): requirements.txt requirements-dev.txt | check-python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

install: $(STAMP)

migrate: install
	@mkdir -p var
	$(BIN)/python manage.py migrate --noinput

## Web (http://127.0.0.1:8000), Celery worker and Celery beat, with the demo organization.
run: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/honcho --procfile Procfile.dev start

## The whole suite (unit, API, tenancy, browser). Uses DATABASE_URL / REDIS_URL when set.
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python tools/mypy_baseline.py

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Refresh and compile the zh-Hans catalogues (needs GNU gettext).
messages: install
	$(BIN)/python manage.py makemessages --locale zh_Hans --no-obsolete --ignore '.venv/*' --ignore 'var/*' --ignore 'tests/*' --ignore 'bench/*' --ignore 'staticfiles/*'
	$(BIN)/python manage.py compilemessages --locale zh_Hans --ignore '.venv/*'

clean:
	rm -rf var staticfiles

## Drop fixed errors from mypy-baseline.txt (it only ever shrinks).
mypy-shrink: install
	$(BIN)/python tools/mypy_baseline.py --shrink
