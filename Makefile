# mamori — two commands on a fresh machine:
#   make run    create .venv, install, initialise an embedded SQLite store with synthetic customers, serve the API
#               and run the scheduler worker next to it (mamori worker; stopped with the server)
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

# Browser libraries from pinned npm packages (web-vendor/package-lock.json, ADR 0024), re-installed when the lock
# changes; without npm the web app still runs and shows its charts' tables only.
web-vendor/node_modules/.installed: web-vendor/package.json web-vendor/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd web-vendor && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else echo "npm がないためグラフを入れません（表のみ表示） / npm not found: charts not installed, tables only (apt-get install npm)"; fi

install: $(VENV)/.installed web-vendor/node_modules/.installed

# The demo's operator is fictional (the published notice, the letters and the e-mails name it); production sets
# its own MAMORI_OPERATOR_* and MAMORI_PRIVACY_CONTACT (docs/notice.md). Only for `make run`, never the tests.
run: export MAMORI_OPERATOR_NAME ?= 架空商事株式会社（デモ）
run: export MAMORI_OPERATOR_ADDRESS ?= 〒100-0000 東京都千代田区丸の内0-0-0（架空の住所）
run: export MAMORI_OPERATOR_REPRESENTATIVE ?= 代表取締役 守山 花子（架空）
run: export MAMORI_PRIVACY_CONTACT ?= 個人情報お問い合わせ窓口 privacy@example.jp（架空・平日10時〜17時）
run: install
	$(BIN)/mamori init
	@if [ ! -f "$(MAMORI_HOME)/.demo-done" ]; then \
		$(BIN)/mamori demo --customers $(DEMO_CUSTOMERS) && touch "$(MAMORI_HOME)/.demo-done"; \
	else echo "デモデータは作成済みです / demo data already present ($(MAMORI_HOME))"; fi
	@echo; echo "== デモ用ログイン / demo logins ($(MAMORI_HOME)/demo-logins.txt) =="; cat "$(MAMORI_HOME)/demo-logins.txt"
	@echo; echo "ブラウザで開く / open http://127.0.0.1:8000/    API: http://127.0.0.1:8000/docs    CLI ツアー / CLI tour: make tour"
	@echo "プライバシーセンター（ご本人向け） / privacy center: http://127.0.0.1:8000/privacy    送信メール / e-mails sent: $(MAMORI_HOME)/outbox"
	@echo "定期処理ワーカー（mamori worker）も起動します / the scheduler worker starts too: mamori jobs list, /jobs"
	@# The worker is a process of its own next to the server (as in production, docs/scheduler.md); it is stopped
	@# when the server stops (Ctrl-C, or the server failing to start).
	@$(BIN)/mamori worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/mamori serve --host 127.0.0.1 --port 8000

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

# The demo store's key directory lives outside MAMORI_HOME (ADR 0007): remove it with the store.
clean:
	@if [ -f "$(MAMORI_HOME)/store.json" ]; then \
		id=$$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["store_id"])' "$(MAMORI_HOME)/store.json"); \
		rm -rf "$$HOME/.config/mamori/stores/$$id"; fi
	rm -rf $(VENV) .mamori .pytest_cache .mypy_cache .ruff_cache web-vendor/node_modules
