# Every target sets itself up: a fresh clone needs only python3 (>= 3.11) and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Two workers (these machines have two cores); each gets its own server or databases.
PYTEST_ARGS ?= -n 2
# Thousands of synthetic users for `make bench` (100: the spec's 100,000-user scale).
SCALE ?= 1

.PHONY: help install test test-fast lint demo bench bench-migrate bench-queries schema queries clean \
        mutation mutation-sql mutation-planted

help:            ## list the targets
	@grep -E '^[a-z0-9-]+:.*##' $(MAKEFILE_LIST) | sed 's/:.*##/\t/'

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP) ## create .venv and install netplus-db with its dev extra

test: $(STAMP)   ## run the whole suite against a real PostgreSQL (embedded when nothing is configured)
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: $(STAMP) ## the inner loop: without the tests marked slow (subprocesses, end to end) or needing PgBouncer or a standby
	$(BIN)/pytest $(PYTEST_ARGS) -m "not slow and not pgbouncer and not replica"

lint: $(STAMP)   ## ruff, mypy --strict and the question bank's linter
	$(BIN)/ruff check netplus_db bench tests examples mutation
	$(BIN)/ruff format --check netplus_db bench tests examples mutation
	$(BIN)/mypy
	$(BIN)/netplus-db seed lint

demo: $(STAMP)   ## migrate + seed the configured (or embedded) database, play a learner, show it
	$(BIN)/netplus-db demo

bench: $(STAMP)   ## benchmark suite at SCALE thousand users (SCALE=100 for the full run) -> docs/benchmarks.md
	$(BIN)/python -m bench suite --scale $(SCALE) $(BENCH_ARGS)

bench-migrate: $(STAMP) ## time `migrate up` on an empty database beside psql applying the same SQL
	$(BIN)/python -m bench migrate $(BENCH_ARGS)

bench-queries: $(STAMP) ## the library's overhead per call beside raw psycopg
	$(BIN)/python -m bench queries $(BENCH_ARGS)

schema: $(STAMP) ## regenerate schema/schema.sql, schema/erd.md and schema/privileges.md from the migrations
	$(BIN)/netplus-db schema dump
	$(BIN)/netplus-db schema erd
	$(BIN)/netplus-db schema privileges

queries: $(STAMP) ## regenerate netplus_db/generated/ from queries/*.sql
	$(BIN)/netplus-db queries gen

clean:           ## remove the venv and caches (keeps .netplus data)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

mutation-sql: $(STAMP) ## policy, grant and search_path mutants against the schema/security tests (0 survivors expected)
	$(BIN)/python -m mutation.sql --jobs 2 $(MUTATION_ARGS)

mutation-planted: $(STAMP) ## the five bugs of issue 19 planted one at a time in a copy: each must fail a test
	$(BIN)/python -m mutation.planted

mutation: $(STAMP) ## mutmut on the modules that carry guarantees, a scratch copy each (MUTATION_ARGS="--report docs/mutation-python.md")
	$(BIN)/python -m mutation.python $(MUTATION_ARGS)
