# Program Q&A: `make run` (set up, index, serve) and `make test` (set up, run the whole suite).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# HOST / PORT override PQA_HOST / PQA_PORT (settings) only when given: `make run PORT=8080`.

.PHONY: setup run index serve test test-fast lint bench bench-retrieval clean chromium wrk postgres

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# PYTHONWARNINGS: setuptools' generic notice about editable installs is noise on a first run.
	PYTHONWARNINGS=ignore $(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

index: setup
	$(BIN)/python -m indexer

run: index
	$(BIN)/python -m server $(if $(HOST),--host $(HOST)) $(if $(PORT),--port $(PORT)) $(if $(WORKERS),--workers $(WORKERS))

# The browser tests drive Debian's chromium; install it when missing (CI machines start without it).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; }

# The serving benchmark drives wrk (a C load generator with keep-alive connections) when it can install it.
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; fi; } \
	  || echo "wrk could not be installed: bench/serve_bench.py falls back to Python client threads"

# The replica tests start a real PostgreSQL server in a temporary folder (tests/postgres.py); install it when missing.
postgres:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; fi; }

test: setup chromium postgres
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not integration and not browser"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: setup wrk
	$(BIN)/python bench/serve_bench.py
	$(BIN)/python bench/insights_bench.py
	$(BIN)/python bench/encoder_cost.py
	$(BIN)/python bench/scale.py

bench-retrieval: setup
	$(BIN)/python bench/beir.py ../shared/bench/scifact --split test

clean:
	rm -rf $(VENV) index .pytest_cache .ruff_cache
