# `make run`: install, migrate, start the web app and a Celery worker at http://127.0.0.1:5000.
# `make test`: install, run the tests (PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export TF_CPP_MIN_LOG_LEVEL ?= 3
export FLASK_APP := wsgi

.PHONY: install run test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when requirements.txt changes.
$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/flask db upgrade
	$(BIN)/celery -A app.worker:celery_app worker --beat --schedule instance/celerybeat-schedule \
	    --loglevel=info --concurrency=1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; \
	$(BIN)/flask run --host 127.0.0.1 --port 5000

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)
