# Atende: `make run` to try it, `make test` to prove it. `make help` lists the rest.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install messages run test test-fast lint format migrate seed worker beat clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) ## Create .venv and install the pinned packages (only when they changed)

messages: $(STAMP) ## Compile the translation catalogs
	@$(BIN)/python manage.py compile_translations

migrate: messages ## Apply database migrations
	$(BIN)/python manage.py migrate --noinput

seed: migrate ## Load the demo data (idempotent) and print the demo logins
	$(BIN)/python manage.py seed_demo

run: seed ## Set everything up and serve on http://localhost:8000 (embedded default)
	$(BIN)/python manage.py serve --host $(HOST) --port $(PORT)

test: messages ## Run the whole suite (browser tests skip without chromium, outside CI)
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .

format: $(STAMP) ## Format and auto-fix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: messages ## Production mode: a Celery worker (needs CELERY_BROKER_URL or REDIS_URL)
	$(BIN)/celery -A config worker --loglevel=INFO

beat: messages ## Production mode: Celery beat with the database scheduler
	$(BIN)/celery -A config beat --loglevel=INFO

clean: ## Remove the virtualenv and local data (SQLite database, media, secret key)
	rm -rf $(VENV) var staticfiles
