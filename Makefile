# Everything a newcomer needs: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
PG_BENCH_URL ?= $(PG_TEST_URL)

.PHONY: run test test-postgres lint typecheck openapi openapi-check fuzz bench bench-audit bench-million check install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The worker seals the audit log and delivers webhooks beside the server, and stops with it.
run: $(STAMP)
	$(BIN)/referral-exchange migrate
	$(BIN)/referral-exchange seed-demo
	$(BIN)/referral-exchange worker & trap 'kill $$!' EXIT; $(BIN)/referral-exchange serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/pytest

test-postgres: $(STAMP)
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check app tests migrations/env.py bench
	$(BIN)/ruff format --check app tests migrations/env.py bench

typecheck: $(STAMP)
	$(BIN)/mypy

openapi: $(STAMP)
	$(BIN)/referral-exchange export-openapi --output openapi/openapi.json

openapi-check: $(STAMP)
	$(BIN)/referral-exchange export-openapi --output $(VENV)/openapi.generated.json
	diff -u openapi/openapi.json $(VENV)/openapi.generated.json

fuzz: $(STAMP)
	bench/fuzz.sh

bench: $(STAMP)
	PG_BENCH_URL=$(PG_BENCH_URL) $(BIN)/python -m bench.load

bench-audit: $(STAMP)
	PG_BENCH_URL=$(PG_BENCH_URL) $(BIN)/python -m bench.audit_log

bench-million: $(STAMP)
	PG_BENCH_URL=$(PG_BENCH_URL) $(BIN)/python -m bench.million

check: lint typecheck openapi-check test test-postgres fuzz

clean:
	rm -rf $(VENV) referral_exchange.db referral_exchange.db-wal referral_exchange.db-shm .audit-signing-key
