# Notes: every command a developer needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export PYTHONDONTWRITEBYTECODE := 1

.DEFAULT_GOAL := help

## help: list the targets
help:
	@grep -hE '^## ' $(MAKEFILE_LIST) | sed 's/^## //' | awk -F': ' '{printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps: reinstall only when a requirements file changes.
$(VENV)/.runtime: web/requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r web/requirements.txt
	touch $@

$(VENV)/.dev: web/requirements.txt web/requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r web/requirements-dev.txt
	touch $@ $(VENV)/.runtime

## venv: create .venv with the app and test dependencies
venv: $(VENV)/.dev

## run: serve the app on SQLite under gunicorn at http://127.0.0.1:8000
run: $(VENV)/.runtime
	cd web && FLASK_APP=app:create_app ../$(BIN)/flask db upgrade
	@echo "Notes is running at http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	cd web && GUNICORN_BIND=$(HOST):$(PORT) exec ../$(BIN)/gunicorn -c gunicorn.conf.py "app:create_app()"

## dev: Flask's debug server with reload (development only, never in production)
dev: $(VENV)/.runtime
	cd web && FLASK_APP=app:create_app ../$(BIN)/flask db upgrade
	cd web && FLASK_APP=app:create_app FLASK_DEBUG=1 ../$(BIN)/flask run --debug --host $(HOST) --port $(PORT)

## test: run tiers 1-3 (unit, integration, e2e on Postgres)
test: $(VENV)/.dev
	$(BIN)/pytest tests/unit tests/integration tests/e2e

## test-unit: tier 1, fast unit tests
test-unit: $(VENV)/.dev
	$(BIN)/pytest tests/unit

## test-integration: tier 2, pages and API through the test client
test-integration: $(VENV)/.dev
	$(BIN)/pytest tests/integration

## test-browser: tier 5, journeys in headless Chromium against gunicorn (needs apt-get install chromium)
test-browser: $(VENV)/.dev
	$(BIN)/pytest tests/browser

## lint: ruff and mypy
lint: $(VENV)/.dev
	$(BIN)/ruff check web tests
	$(BIN)/ruff format --check web tests
	$(BIN)/mypy

## fmt: format the code with ruff
fmt: $(VENV)/.dev
	$(BIN)/ruff format web tests
	$(BIN)/ruff check --fix web tests

## clean: remove the venv, caches and the local SQLite database
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache web/instance
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: help venv run dev test test-unit test-integration test-browser lint fmt clean
