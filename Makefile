# Caseloop — `make demo` serves a demo desk, `make test` runs the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
export CASELOOP_DATA_DIR ?= $(CURDIR)/var
# Links in mail and the sign-in help point where the desk is served, unless set otherwise.
SITE_URL = CASELOOP_SITE_URL=$${CASELOOP_SITE_URL:-http://$(HOST):$(PORT)}

.DEFAULT_GOAL := help

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed ## Create .venv and install Caseloop with its dev tools

# The tests also cover the optional embeddings extra. PyTorch's CPU build goes in first, so
# nothing pulls the CUDA build in.
TORCH_VERSION ?= 2.13.0
$(VENV)/.embeddings: $(VENV)/.installed
	$(BIN)/pip install --quiet "torch==$(TORCH_VERSION)"
	$(BIN)/pip install --quiet -e '.[dev,embeddings]'
	touch $@

install-embeddings: $(VENV)/.embeddings ## Add the optional sentence-embeddings extra to .venv

# axe-core, which the browser tests run on each page to check its accessibility, and
# oidc-provider, the OpenID Connect provider the single sign-on tests sign in through.
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test-tools: system-deps node_modules/.installed ## Install the tests' npm tools (axe-core, oidc-provider)

system-deps: ## Install the Debian packages the tests need (Chromium, Dovecot)
	bash scripts/system-deps.sh

migrate: install ## Apply database migrations
	@echo "Applying database migrations…"
	@$(BIN)/caseloop migrate --noinput --verbosity 0

demo: install migrate ## Seed a demo desk and serve it on http://127.0.0.1:8000
	$(SITE_URL) $(BIN)/caseloop demo
	@# The demo is served over plain HTTP, where browsers may drop Secure cookies.
	$(SITE_URL) CASELOOP_SECURE_COOKIES=$${CASELOOP_SECURE_COOKIES:-0} $(BIN)/caseloop serve --host $(HOST) --port $(PORT)

serve: install migrate ## Serve the desk (no demo data)
	$(SITE_URL) $(BIN)/caseloop serve --host $(HOST) --port $(PORT)

lint: install ## ruff, import-linter (layers), the import-cycle check and mypy
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/python scripts/import_graph.py
	$(BIN)/mypy

test: install install-embeddings system-deps test-tools lint ## The whole suite on SQLite, then on PostgreSQL + Redis when DATABASE_URL is set
	bash scripts/test.sh

test-sqlite: install install-embeddings system-deps test-tools ## The suite on SQLite only
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest $(PYTEST_ARGS)

# The inner loop: needs no PyTorch, Chromium or Dovecot (openssl still, for the mail
# gateway's TLS tests). Tests that start Dovecot are found by their fixture (tests/conftest.py).
test-fast: install ## The suite on SQLite without browser, embeddings (PyTorch) or Dovecot tests
	env -u DATABASE_URL -u REDIS_URL $(BIN)/pytest -m "not browser and not embeddings and not crash" -k "not dovecot" $(PYTEST_ARGS)

# Translations: collect the marked strings into each language's .po file (GNU gettext's
# xgettext), then compile the .mo files the desk reads; both are kept in the tree.
# A new language: add it to LANGUAGES in settings.py, then `make messages LOCALES="-l fr"`.
LOCALES ?= $(patsubst src/caseloop/locale/%/LC_MESSAGES,-l %,$(wildcard src/caseloop/locale/*/LC_MESSAGES))
messages: install ## Update the translation catalogues (.po) and compile them (.mo)
	cd src/caseloop && ../../$(BIN)/caseloop makemessages $(LOCALES) --no-obsolete
	cd src/caseloop && ../../$(BIN)/caseloop makemessages -d djangojs $(LOCALES) --no-obsolete --ignore='*/vendor/*'
	cd src/caseloop && ../../$(BIN)/caseloop compilemessages $(LOCALES)

.PHONY: help install install-embeddings system-deps test-tools migrate demo serve lint test test-sqlite test-fast messages
