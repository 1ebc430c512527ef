# `make run [PORT=8000]`: install, migrate, start the web app and a Celery worker at http://127.0.0.1:$(PORT)
# (Ctrl-C or SIGTERM stops both within 10 s).
# `make test`: install, run the tests (PostgreSQL and Redis when DATABASE_URL and REDIS_URL are set).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
WORKER_APP ?= app.worker:celery_app
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
	exec $(BIN)/python scripts/run_local.py --port $(PORT) --worker-app $(WORKER_APP)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)
