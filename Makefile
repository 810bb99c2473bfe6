# Notes: every command a developer needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Tiers 1-2 spread over every CPU (pytest-xdist); `make test PYTEST_WORKERS=0` runs them in one process.
PYTEST_WORKERS ?= auto

.DEFAULT_GOAL := help

## help: list the targets
help:
	@grep -hE '^## ' $(MAKEFILE_LIST) | sed 's/^## //' | awk -F': ' '{printf "  \033[1m%-14s\033[0m %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps: reinstall only when a requirements file changes.
$(VENV)/.runtime: web/requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r web/requirements.txt
	touch $@

$(VENV)/.dev: web/requirements.txt web/requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r web/requirements-dev.txt
	touch $@ $(VENV)/.runtime

## venv: create .venv with the app and test dependencies
venv: $(VENV)/.dev

## run: serve the app on SQLite under gunicorn at http://127.0.0.1:8000
run: $(VENV)/.runtime
	cd web && FLASK_APP=app:create_app ../$(BIN)/flask db upgrade
	@echo "Notes is running at http://$(HOST):$(PORT)  (Ctrl-C to stop)"
	cd web && GUNICORN_BIND=$(HOST):$(PORT) exec ../$(BIN)/gunicorn -c gunicorn.conf.py "app:create_app()"

## dev: Flask's debug server with reload (development only, never in production)
dev: $(VENV)/.runtime
	cd web && FLASK_APP=app:create_app ../$(BIN)/flask db upgrade
	cd web && FLASK_APP=app:create_app FLASK_DEBUG=1 ../$(BIN)/flask run --debug --host $(HOST) --port $(PORT)

## test: run tiers 1-3 across the CPUs (unit and integration, then e2e on Postgres, a container per worker)
test: $(VENV)/.dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests/unit tests/integration
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests/e2e

## test-unit: tier 1, fast unit tests
test-unit: $(VENV)/.dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests/unit

## test-integration: tier 2, pages and API through the test client
test-integration: $(VENV)/.dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests/integration

## test-browser: tier 5 in headless Chromium (apt-get install chromium), both modes below
test-browser: test-browser-local test-browser-stack

## test-browser-local: journeys, axe scans (light+dark) and screenshots against gunicorn on SQLite
test-browser-local: $(VENV)/.dev
	$(BIN)/pytest tests/browser

## test-browser-stack: the journeys against a throwaway compose stack, through nginx over HTTPS (needs Docker)
test-browser-stack: $(VENV)/.dev
	BROWSER_STACK=1 TESTCONTAINERS_RYUK_DISABLED=true $(BIN)/pytest tests/browser/test_journeys.py

## lint: ruff, mypy, the import contracts of docs/architecture.md, and the slow tiers' tests collect
lint: $(VENV)/.dev
	$(BIN)/ruff check web tests acme db
	$(BIN)/ruff format --check web tests acme db
	$(BIN)/mypy
	PYTHONPATH=web $(BIN)/lint-imports
	@# The Docker and browser tiers run last in CI: a module they cannot import fails here, in seconds.
	@out=$$($(BIN)/pytest --collect-only -qq -p no:warnings tests/stack tests/swarm tests/browser 2>&1) \
	  || { printf '%s\n' "$$out"; echo "lint: the stack, swarm or browser tests do not collect (above)" >&2; exit 1; }

## openapi: rewrite the stored OpenAPI document after a deliberate API change (tests/integration/api/openapi.json)
openapi: $(VENV)/.runtime
	cd web && FLASK_APP=app:create_app ../$(BIN)/flask openapi write --format=json ../tests/integration/api/openapi.json

## fmt: format the code with ruff
fmt: $(VENV)/.dev
	$(BIN)/ruff format web tests acme db
	$(BIN)/ruff check --fix web tests acme db

## clean: remove the venv, caches and the local SQLite database
clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache web/instance
	find . -name __pycache__ -type d -prune -exec rm -rf {} +

.PHONY: help venv run dev test test-unit test-integration test-browser test-browser-local test-browser-stack lint openapi fmt clean

# ---- production stack (docker compose) -------------------------------------
COMPOSE ?= docker compose
COMPOSE_TEST := $(COMPOSE) -f docker-compose.test.yml

# .env is created once, never overwritten: secrets from .env.example's
# placeholders replaced by fresh random ones; readable by its owner only.
.env:
	@umask 077 && $(PYTHON) -c 'import re, secrets; \
	text = open(".env.example").read(); \
	text = re.sub(r"(?m)^SECRET_KEY=.*$$", "SECRET_KEY=" + secrets.token_urlsafe(48), text); \
	text = re.sub(r"(?m)^POSTGRES_PASSWORD=.*$$", "POSTGRES_PASSWORD=" + secrets.token_urlsafe(32), text); \
	open(".env", "x").write(text)'
	@echo "Created .env with fresh secrets (edit SERVER_NAME and ports there)."

## up: build and start the stack (nginx, web, db), creating .env if missing
up: .env
	$(COMPOSE) up -d --build --wait
	@port="$${HTTPS_PORT:-$$(sed -n 's/^HTTPS_PORT=//p' .env)}"; \
	name="$${SERVER_NAME:-$$(sed -n 's/^SERVER_NAME=//p' .env)}"; \
	if [ "$${port:-443}" = 443 ]; then suffix=""; else suffix=":$$port"; fi; \
	echo "Notes is running at https://$${name:-localhost}$$suffix/"; \
	echo "First time? Create the administrator: $(COMPOSE) exec web flask users create you@example.com --admin"

## down: stop the stack (data stays in the pgdata volume)
down:
	$(COMPOSE) down

## logs: follow the stack's logs (SERVICE=web for one service)
logs:
	$(COMPOSE) logs -f --tail=200 $(SERVICE)

## ps: the stack's containers and their health
ps:
	$(COMPOSE) ps -a

## psql: a psql prompt on the stack's database
psql:
	$(COMPOSE) exec db sh -c 'psql -U "$$POSTGRES_USER" -d "$$POSTGRES_DB"'

## shell: a Flask shell (app context loaded) in a web container
shell:
	$(COMPOSE) exec web flask shell

## test-docker: run tiers 1-3 inside the web image against a Postgres container
test-docker:
	$(COMPOSE_TEST) run --rm --build tests; rc=$$?; \
	$(COMPOSE_TEST) down -v --remove-orphans >/dev/null 2>&1; exit $$rc

# sslyze lives in a venv of its own: it needs an older cryptography than the app.
SSLYZE_VENV := .venv-sslyze
$(SSLYZE_VENV)/.installed: tests/stack/sslyze-requirements.txt
	$(PYTHON) -m venv $(SSLYZE_VENV)
	$(SSLYZE_VENV)/bin/pip install --quiet -r tests/stack/sslyze-requirements.txt
	touch $@

# The chaos tests measure the stack's maximum and load it, so they run alone,
# first (building the images). The other modules mostly wait on Docker
# (restores, restarts, upgrades): STACK_WORKERS run them side by side, a
# module at a time each, every worker with stacks of its own. 0: one process.
STACK_WORKERS ?= 2

## test-stack: tier 4, bring up the real compose stack and test it over HTTPS (with sslyze)
test-stack: $(VENV)/.dev $(SSLYZE_VENV)/.installed
	TESTCONTAINERS_RYUK_DISABLED=true $(BIN)/pytest -m stack --durations=20 tests/stack/test_chaos.py
	TESTCONTAINERS_RYUK_DISABLED=true $(BIN)/pytest -m stack -n $(STACK_WORKERS) --dist loadfile --durations=20 \
	  --ignore=tests/stack/test_chaos.py tests/stack

.PHONY: up down logs ps psql shell test-docker test-stack

## test-e2e: tier 3, end to end on PostgreSQL (Docker postgres:17, or TEST_DATABASE_URL)
test-e2e: $(VENV)/.dev
	$(BIN)/pytest -n $(PYTEST_WORKERS) tests/e2e

.PHONY: test-e2e

# ---- attack tests (issue 4) -------------------------------------------------
SCHEMATHESIS_MAX_EXAMPLES ?= 1000

## audit: API fuzzing (bounded), static analysis, known-vulnerable deps (needs the network) and TLS (sslyze)
audit: audit-api audit-code audit-deps audit-tls

## audit-tls: sslyze against a throwaway stack's nginx, Mozilla intermediate profile
audit-tls: $(VENV)/.dev $(SSLYZE_VENV)/.installed
	TESTCONTAINERS_RYUK_DISABLED=true $(BIN)/pytest -m stack tests/stack/test_tls_sslyze.py

## audit-api: schemathesis against /api/v1/openapi.json in-process, bounded (also part of `make test`)
audit-api: $(VENV)/.dev
	$(BIN)/pytest -q tests/integration/api/test_schemathesis.py

## audit-code: bandit over web/app; medium or high findings fail
audit-code: $(VENV)/.dev
	$(BIN)/bandit -c pyproject.toml -r web/app --severity-level medium

## audit-deps: pip-audit of web/requirements.txt against PyPI's advisory data (needs network)
# Every pin is exact, so no throwaway venv is built (--disable-pip --no-deps).
# It reads PyPI's per-release JSON API; behind a mirror that serves only the
# per-project JSON, every package fails with "Dependency not found on PyPI".
audit-deps: $(VENV)/.dev
	$(BIN)/pip-audit --strict --vulnerability-service pypi --disable-pip --no-deps --requirement web/requirements.txt

## fuzz: schemathesis with many more examples per operation (SCHEMATHESIS_MAX_EXAMPLES, default 1000)
fuzz: $(VENV)/.dev
	SCHEMATHESIS_MAX_EXAMPLES=$(SCHEMATHESIS_MAX_EXAMPLES) $(BIN)/pytest -q tests/integration/api/test_schemathesis.py

.PHONY: audit audit-api audit-code audit-deps audit-tls fuzz

# ---- reliability: fault injection and backups (issue 4) ---------------------
BACKUP_DIR ?= backups
CHAOS_SECONDS ?= 30
SOAK_SECONDS ?= 600
# The drill runs on the stack's own archive_timeout (PG_ARCHIVE_TIMEOUT's default).
PITR_ARCHIVE_TIMEOUT ?= 60
PITR_LOAD_SECONDS ?= 75

## chaos: fault injection, overload and a soak on throwaway stacks (CHAOS_SECONDS 30, SOAK_SECONDS 600: ~20 min); writes docs/reliability.md
chaos: $(VENV)/.dev
	TESTCONTAINERS_RYUK_DISABLED=true CHAOS_SECONDS=$(CHAOS_SECONDS) SOAK_SECONDS=$(SOAK_SECONDS) \
	  CHAOS_REPORT=docs/reliability.md $(BIN)/pytest -m stack tests/stack/test_chaos.py

## backup: pg_dump -Fc of the running stack's database to backups/notes-<UTC time>.dump (BACKUP_DIR)
backup:
	@COMPOSE="$(COMPOSE)" BACKUP_DIR="$(BACKUP_DIR)" db/backup.sh

## restore: load FILE=<dump> into the running stack (refuses a database with data unless FORCE=1)
restore:
	@COMPOSE="$(COMPOSE)" FILE="$(FILE)" FORCE="$(FORCE)" db/restore.sh

# Continuous archiving (issue 14): pgBackRest in the db image, base backups by
# the backup service, off-site copies with restic. docs/backups.md.

## backup-status: when the last good pgBackRest backup and archived WAL were; writes backups/backup-status.prom
backup-status:
	@COMPOSE="$(COMPOSE)" BACKUP_DIR="$(BACKUP_DIR)" PYTHON="$(PYTHON)" db/backup-status.sh

## restore-pitr: restore the database to TIME='2026-11-30 14:05' (UTC) or TIME=latest from pgBackRest
restore-pitr:
	@COMPOSE="$(COMPOSE)" TIME="$(TIME)" PYTHON="$(PYTHON)" db/restore-pitr.sh

## backup-offsite: copy the pgBackRest repository off-site now with restic (RESTIC_REPOSITORY, RESTIC_PASSWORD)
backup-offsite:
	@$(COMPOSE) run --rm --no-deps -T backup notes-offsite backup

## restore-offsite: put the latest restic copy back into the pgBackRest repository (FORCE=1 over backups)
restore-offsite:
	@COMPOSE="$(COMPOSE)" FORCE="$(FORCE)" db/restore-offsite.sh

## pitr-drill: lose a throwaway stack's database volume under load, restore with pgBackRest, count, then the off-site path (~6 min); writes docs/reliability.md's PITR section
pitr-drill: $(VENV)/.dev
	TESTCONTAINERS_RYUK_DISABLED=true PITR_ARCHIVE_TIMEOUT=$(PITR_ARCHIVE_TIMEOUT) PITR_LOAD_SECONDS=$(PITR_LOAD_SECONDS) PITR_REPORT=docs/reliability.md \
	  $(BIN)/pytest -m stack tests/stack/test_pitr.py tests/stack/test_offsite.py

.PHONY: chaos backup restore pitr-drill backup-status restore-pitr backup-offsite restore-offsite

# ---- deploy to a server over SSH ---------------------------------------------
DEPLOY_DIR ?= notes
SSH ?= ssh

# Run on the server by `make deploy` (sh, from its standard input), in
# DEPLOY_DIR, after the release's files were unpacked into app.new: keeps
# .env there (made once with fresh secrets, which never leave the server),
# sets the KEY=VALUE arguments in it, swaps the release in and lets compose
# build and start it. The volumes (the database, the certificates) belong to
# the compose project, not to a directory, so an upgrade keeps them.
define DEPLOY_ON_SERVER
set -eu
cd "$$1"; shift
[ -d app.new ] || { echo "deploy: no release was unpacked in $$PWD/app.new" >&2; exit 1; }
for setting in "$$@"; do
  case "$${setting%%=*}" in
    ''|*[!A-Z0-9_]*|[0-9]*) echo "deploy: '$$setting' is not KEY=VALUE (e.g. SERVER_NAME=notes.example.com)" >&2; exit 2;;
  esac
done
command -v docker >/dev/null || { echo "deploy: Docker is not installed on this server" >&2; exit 1; }
umask 077
if [ ! -f .env ]; then
  secret() { head -c "$$1" /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'; }
  sed -e "s/^SECRET_KEY=.*/SECRET_KEY=$$(secret 48)/" \
      -e "s/^POSTGRES_PASSWORD=.*/POSTGRES_PASSWORD=$$(secret 24)/" app.new/.env.example > .env.new
  mv .env.new .env
  echo "deploy: created $$PWD/.env with fresh secrets"
fi
for setting in "$$@"; do
  key=$${setting%%=*}
  { grep -v "^$$key=" .env || true; printf '%s\n' "$$setting"; } > .env.new
  mv .env.new .env
done
rm -rf app.old
if [ -d app ]; then mv app app.old; fi
mv app.new app
ln -s ../.env app/.env
cd app
if ! docker compose up -d --build --wait --remove-orphans; then
  echo "deploy: the new release did not become healthy; the previous one's files are in $$(dirname "$$PWD")/app.old" >&2
  exit 1
fi
rm -rf ../app.old
name=$$(sed -n 's/^SERVER_NAME=//p' .env); port=$$(sed -n 's/^HTTPS_PORT=//p' .env)
echo "deploy: Notes is running at https://$${name:-localhost}$$([ "$${port:-443}" = 443 ] || echo ":$$port")/"
endef
export DEPLOY_ON_SERVER

## deploy: TO=user@server [SET="SERVER_NAME=notes.example.com ACME_EMAIL=..."]: upload HEAD, build and start it there; run again to upgrade
deploy:
	@test -n "$(TO)" || { echo "usage: make deploy TO=user@server [SET='SERVER_NAME=notes.example.com'] [DEPLOY_DIR=notes]" >&2; exit 2; }
	@git diff --quiet HEAD -- || echo "deploy: uncommitted changes are not deployed (HEAD is)" >&2
	git archive --format=tar HEAD | $(SSH) $(TO) 'set -e; mkdir -p $(DEPLOY_DIR); rm -rf $(DEPLOY_DIR)/app.new; mkdir $(DEPLOY_DIR)/app.new; tar -x -C $(DEPLOY_DIR)/app.new'
	printf '%s\n' "$$DEPLOY_ON_SERVER" | $(SSH) $(TO) sh -s -- '$(DEPLOY_DIR)' $(SET)

.PHONY: deploy

# ---- Docker Swarm (issue 15, docs/scaling.md) ------------------------------------

## swarm-deploy: build, tag and deploy the stack to this engine's swarm (deploy/swarm/); run again to update
swarm-deploy: .env
	deploy/swarm/deploy.sh

## swarm-rm: remove the swarm stack (STACK, default notes); its volumes and secrets stay
swarm-rm:
	docker stack rm $${STACK:-notes}

## test-swarm: the Swarm tier: a single-node swarm on this machine, left when the tier ends (~9 min)
test-swarm: $(VENV)/.dev
	$(BIN)/pytest -m swarm --durations=10 tests/swarm

.PHONY: swarm-deploy swarm-rm test-swarm

# ---- performance (issue 6) ---------------------------------------------------

## bench: load-test a throwaway compose stack (wrk + open loop, ~20-25 min on 2 cores); writes docs/performance.{md,json}
# BENCH_SECONDS (5 per point), BENCH_REPEATS (3), BENCH_MATRIX (1: also compare
# gunicorn worker classes), BENCH_ONLY=api_list,... (some endpoints), BENCH_KEEP=1.
bench: $(VENV)/.dev
	$(BIN)/python bench/run.py

$(VENV)/.bench: bench/requirements.txt $(VENV)/.dev
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@

## bench-ratelimit: one API rate-limit check in PostgreSQL 17 vs Redis (~1 min of containers); prints figures for docs/performance.md
bench-ratelimit: $(VENV)/.bench
	$(BIN)/python bench/ratelimit_store.py

.PHONY: bench bench-ratelimit
