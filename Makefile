# Shipcheck. A newcomer needs two targets: `make run` and `make test`.
#   make run     create .venv, install, migrate (SQLite unless DATABASE_URL), load the demo, start everything
#   make test    create or update .venv, then run the whole suite in parallel
#   make lint    ruff, import contracts, mypy;  make format: ruff format + fixes;  make bench: the benchmarks in bench/
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: install run test chromium oidc-provider unleash axe lint format bench bench-load schema clean

# Re-installs whenever pyproject.toml changes (new or re-pinned dependencies).
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py runall

# Browser tests drive Debian's Chromium. Install it when it is missing and we can
# (root with apt); otherwise carry on: the browser tests then skip loudly (fail when CI=true).
chromium:
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || [ -n "$$SHIPCHECK_CHROMIUM" ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Chromium for the browser tests (apt-get)..."; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
		|| { DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 \
		     && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1; } \
		|| echo "!!! Could not install Chromium: browser tests will be skipped (and fail in CI)."; \
	else \
		echo "!!! Chromium is missing and cannot be installed here (needs root and apt-get):"; \
		echo "!!! browser tests will be skipped (and fail in CI). Install it with: apt-get install chromium"; \
	fi

# The sign-in tests start a real OpenID Connect provider (npm oidc-provider, pinned by the
# committed package-lock.json) with Node.js; npm ci installs it again whenever the lock changes.
OIDC_DIR := tests/accounts/oidc
OIDC_STAMP := $(OIDC_DIR)/node_modules/.installed-stamp
$(OIDC_STAMP): $(OIDC_DIR)/package.json $(OIDC_DIR)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Node.js for the OpenID Connect tests (apt-get)..."; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null 2>&1 \
		|| { DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null 2>&1 \
		     && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm >/dev/null 2>&1; } || true; \
	fi
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(OIDC_DIR) --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "!!! npm is missing: the OpenID Connect tests will be skipped (and fail in CI)."; \
	fi

oidc-provider: $(OIDC_STAMP)

# The flags adapter tests start a real Unleash (npm unleash-server, pinned by the committed lock).
UNLEASH_DIR := tests/flags/unleash
UNLEASH_STAMP := $(UNLEASH_DIR)/node_modules/.installed-stamp
$(UNLEASH_STAMP): $(UNLEASH_DIR)/package.json $(UNLEASH_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(UNLEASH_DIR) --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "!!! npm is missing: the Unleash adapter tests will be skipped (and fail in CI)."; \
	fi

unleash: $(UNLEASH_STAMP)

# axe-core (the accessibility check the browser tests inject into pages) comes from the npm
# registry at the version package-lock.json pins; `npm ci` re-installs when the lock changes.
AXE_STAMP := node_modules/.package-lock.json
$(AXE_STAMP): package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "!!! npm is missing: the accessibility check will be skipped (and fail in CI)."; fi

axe: $(AXE_STAMP)

# -n auto: one worker per core (pytest-xdist); every test runs on its own database per worker.
# -rfEs: list failures, errors and skip reasons in the summary, so a skipped browser run is visible.
test: install chromium oidc-provider unleash axe
	$(PY) -m pytest -n auto -rfEs $(PYTEST_ARGS)

# ruff (check and format), the import contracts of pyproject.toml
# ([tool.importlinter], docs/architecture.md) and mypy ([tool.mypy]).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format $(or $(FILES),.)
	$(VENV)/bin/ruff check --fix $(or $(FILES),.)

# Every bench/*.py that defines main() runs against a fresh database of its own (var/bench/),
# never the demo's; set DATABASE_URL to benchmark on PostgreSQL instead. Every benchmark runs
# even when an earlier one misses its goal; the exit status says whether all of them met theirs.
BENCH_VAR := $(CURDIR)/var/bench
bench: install
	@rm -rf $(BENCH_VAR)
	@SHIPCHECK_VAR_DIR=$(BENCH_VAR) $(PY) manage.py migrate --noinput -v0
	@status=0; missed=""; for f in bench/*.py; do \
		[ -e "$$f" ] || continue; \
		grep -qE '^def main\(' "$$f" || continue; \
		echo "== $$f"; \
		SHIPCHECK_VAR_DIR=$(BENCH_VAR) DJANGO_SETTINGS_MODULE=config.settings PYTHONPATH=$(CURDIR) \
			$(PY) -c "import sys, runpy, django; django.setup(); sys.exit(runpy.run_path(sys.argv[1])['main']() or 0)" "$$f" \
			|| { status=1; missed="$$missed $$f"; }; \
	done; \
	if [ $$status = 0 ]; then echo "== every benchmark met its goal"; \
	else echo "== goal NOT met by:$$missed"; fi; exit $$status

# The load benchmark (docs/performance.md): gunicorn on PostgreSQL under 100 API requests and
# 10 page views a second. Its database (LOAD_DATABASE_URL) is its own; it never drops one.
LOAD_ARGS ?=
bench-load: install
	$(PY) bench/load/run.py $(LOAD_ARGS)

schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file var/openapi.yml
	@echo "OpenAPI schema written to var/openapi.yml"

clean:
	rm -rf var
