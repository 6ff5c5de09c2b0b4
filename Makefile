# Two commands a newcomer needs: `make run` and `make test`. Everything else is for maintainers.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 5000
export FLASK_APP := club

.PHONY: run test lint format worker prod migrate seed browser-deps clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Re-resolve pyproject.toml in a scratch venv and pin the result (review the diff, commit).
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip && .venv-lock/bin/pip install --quiet -e '.[dev]'
	{ sed -n '1,3p' constraints.txt; .venv-lock/bin/pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt && rm -rf .venv-lock

migrate: $(STAMP)
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask demo seed

# On another port, emailed links follow it, unless BASE_URL is set (environment or .env).
run: seed
	$(if $(filter-out 5000,$(PORT)),$(if $(shell grep -s '^BASE_URL=' .env),,BASE_URL=$${BASE_URL:-http://127.0.0.1:$(PORT)})) $(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# Chromium comes from Debian's packages; Playwright's own browser download is not used.
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get install -y -qq chromium >/dev/null 2>&1 || \
	     (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) || \
	    echo "Could not install chromium: browser tests will be skipped."; \
	  else echo "chromium is missing and this is not root: browser tests will be skipped."; fi; }

test: $(STAMP) browser-deps
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

worker: $(STAMP)
	$(BIN)/flask worker --with-scheduler

prod: $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/python platform/run_local_prod.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
