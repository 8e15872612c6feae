# phasekit's developer commands. `make test` is THE check; `make demo` is the main job.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
SRC := src tests examples benchmarks fuzz docs/conf.py

.PHONY: help test lint typecheck pytest typescript ts-package docs demo bench generate clean

help:
	@echo "make demo   run the examples (the main job)"
	@echo "make test   ruff, ruff format --check, mypy --strict, pytest with coverage (on"
	@echo "            throwaway PostgreSQL and Redis servers it starts and stops), docs"
	@echo "make bench  run the benchmarks against phasekit's peers"
	@echo "make docs   build the HTML docs with warnings as errors"
	@echo "make generate  rewrite generated/ (JSON Schema, OpenAPI, TypeScript)"
	@echo "make ts-package  the npm package of generated/phasekit.ts, as ts/phasekit-VERSION.tgz"

# The virtual environment is rebuilt when pyproject.toml changes.
$(VENV)/.installed-dev: pyproject.toml
	@echo "Installing phasekit and its development tools into $(VENV) (a minute or two)..."
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,docs,examples]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-dev
	$(PY) -m pip install --quiet -e '.[dev,docs,examples,bench]'
	touch $@

test: lint typecheck pytest docs

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy --strict src tests examples

# The TypeScript compiler the tests run on the generated module (pinned in ts/).
typescript:
	@if [ -x ts/node_modules/.bin/tsc ]; then :; \
	elif command -v npm >/dev/null; then cd ts && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "make test: npm not found; the TypeScript checks need Node.js and npm" \
	  "(Debian: apt-get install nodejs npm)" >&2; exit 1; fi

# The npm package a frontend installs: generated/phasekit.ts compiled to ts/dist/ (an ES
# module and its declarations) and packed as ts/phasekit-VERSION.tgz.
ts-package: typescript
	cd ts && npm pack --loglevel=error

# The tests run against a throwaway PostgreSQL server and a throwaway Redis server that
# .ci/with-postgres.sh and .ci/with-redis.sh start and stop (PHASEKIT_TEST_POSTGRES_DSN and
# PHASEKIT_REDIS_URL: use yours; PHASEKIT_SKIP_POSTGRES=1 and PHASEKIT_SKIP_REDIS=1: skip
# those tests).
# PYTEST_ARGS passes more options, e.g. PYTEST_ARGS=--hypothesis-seed=N.
PYTEST_ARGS ?=
pytest: $(VENV)/.installed-dev typescript
	.ci/with-postgres.sh .ci/with-redis.sh $(BIN)/pytest src tests README.md \
	  --cov=phasekit --cov-branch --cov-report=term --cov-fail-under=95 $(PYTEST_ARGS)

docs: $(VENV)/.installed-dev
	$(BIN)/sphinx-build -n -W --keep-going -q -b html docs docs/_build/html
	$(BIN)/sphinx-build -n -W --keep-going -q -b doctest docs docs/_build/doctest

# Each example under a header saying what it shows, then the command that runs it.
demo: $(VENV)/.installed-dev
	@echo "== lifecycle tour: one campaign per initial phase, through every status and phase =="
	$(PY) examples/lifecycle_tour.py
	@echo
	@echo "== migration: 2,000,000 legacy rows to phases on SQLite, step by step, rolled back =="
	$(PY) examples/migrate_sqlite.py
	@echo
	@echo "== progress worker: a 2,000,000-domain campaign's progress, throttled to a client =="
	$(PY) examples/progress_worker.py
	@echo
	@echo "== Celery + Redis: many workers, one exact progress, a worker killed mid-shard =="
	.ci/with-redis.sh $(PY) examples/celery_campaign.py --kill-worker

# The online migration benchmark migrates a PostgreSQL table of BENCH_MIGRATION_ROWS legacy
# rows (10,000,000 by default, about 1.5 GB and the better part of an hour on 2 cores) under
# a live old-version writer, on PHASEKIT_BENCH_POSTGRES_DSN, PHASEKIT_TEST_POSTGRES_DSN or a
# throwaway server it starts and stops. Smaller: make bench BENCH_MIGRATION_ROWS=1000000.
# BENCH_MIGRATION_ARGS passes more options, e.g. BENCH_MIGRATION_ARGS='--compare-rows
# 1000000 --markdown /tmp/online.md' (see bench_online_migration.py --help).
#
# bench_backfill_instructions.py counts a backfill batch's instructions per row under
# valgrind (apt-get install valgrind), beside its peers: the same on any machine, however busy.
# bench_query_instructions.py counts the plan's phase queries against the legacy ones there.
BENCH_MIGRATION_ROWS ?= 10000000
BENCH_MIGRATION_ARGS ?=
bench: $(VENV)/.installed-bench
	cd benchmarks && ../$(PY) bench_lifecycle.py
	cd benchmarks && ../$(PY) bench_mapping.py
	cd benchmarks && ../$(PY) bench_codec.py
	cd benchmarks && ../$(PY) bench_traffic.py
	cd benchmarks && ../$(PY) bench_shards.py
	cd benchmarks && ../$(PY) bench_backfill_instructions.py
	cd benchmarks && ../$(PY) bench_query_instructions.py
	cd benchmarks && ../$(PY) bench_online_migration.py --rows $(BENCH_MIGRATION_ROWS) \
	  $(BENCH_MIGRATION_ARGS)

GENERATED := generated/phasekit.schema.json generated/openapi.json generated/phasekit.ts

generate: $(VENV)/.installed-dev
	$(BIN)/phasekit schema --format jsonschema -o generated/phasekit.schema.json
	$(BIN)/phasekit schema --format openapi -o generated/openapi.json
	$(BIN)/phasekit schema --format typescript -o generated/phasekit.ts

clean:
	rm -rf docs/_build docs/_generated .coverage htmlcov .pytest_cache .mypy_cache .ruff_cache
