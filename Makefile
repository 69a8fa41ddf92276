# Quorum: `make run` starts the app on embedded defaults; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/quorum
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test test-fast fuzz bench lint format install services browser-deps clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_setup --url http://$(HOST):$(PORT)
	$(PY) manage.py runserver $(HOST):$(PORT)

services:
	bash .ci/services

browser-deps:
	bash .ci/browser-deps

# The whole suite on PostgreSQL (with Redis and real Celery workers where a test needs them),
# then the database-agnostic tests again on SQLite, the embedded default.
test: install services browser-deps
	DATABASE_URL=$(TEST_DATABASE_URL) QUORUM_TEST_BROKER_URL=$(TEST_BROKER_URL) \
		$(PY) -m pytest -p no:cacheprovider
	env -u DATABASE_URL $(PY) -m pytest -p no:cacheprovider -q -m "not browser and not worker and not postgres"

test-fast: install
	$(PY) -m pytest -q -m "not browser and not worker and not postgres"

# Schemathesis over every API operation, longer than the run `make test` includes (a fixed seed:
# the same cases each time; FUZZ_EXAMPLES cases per operation and phase).
FUZZ_EXAMPLES ?= 60
fuzz: install services
	DATABASE_URL=$(TEST_DATABASE_URL) FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) \
		$(PY) -m pytest -p no:cacheprovider -q -s tests/test_api_fuzz.py

bench: install services
	DATABASE_URL=$(TEST_DATABASE_URL) QUORUM_TEST_BROKER_URL=$(TEST_BROKER_URL) \
		bash tests/benchmarks/run_all.sh

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var
