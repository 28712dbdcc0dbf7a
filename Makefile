# mamori — two commands on a fresh machine:
#   make run    create .venv, install, initialise an embedded SQLite store with synthetic customers, show the CLI tour
#   make test   the whole suite: ruff, mypy, import-linter, alembic check, pytest on SQLite and PostgreSQL

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export MAMORI_HOME ?= $(CURDIR)/.mamori
DEMO_CUSTOMERS ?= 300
PYTEST_WORKERS ?= 2

.PHONY: run test install lint typecheck contracts pytest tour bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/mamori init
	@if [ ! -f "$(MAMORI_HOME)/.demo-done" ]; then \
		$(BIN)/mamori demo --customers $(DEMO_CUSTOMERS) && touch "$(MAMORI_HOME)/.demo-done"; \
	else echo "デモデータは作成済みです / demo data already present ($(MAMORI_HOME))"; fi
	@$(MAKE) --no-print-directory tour

tour: install
	@bash scripts/tour.sh

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

pytest: install
	$(BIN)/pytest -q -n $(PYTEST_WORKERS) -p no:cacheprovider

test: lint typecheck contracts pytest

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .mamori .pytest_cache .mypy_cache .ruff_cache
