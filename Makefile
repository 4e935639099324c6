# One gate for humans and CI: `make test` = setup + lint + type-check + every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help setup system-deps demo demo-smoke orchestrate test lint format typecheck pytest wheel-smoke bench docs analytics-docs infra-check mutation sql-mutation clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,infra]'
	touch $(STAMP)

setup: $(STAMP) ## Create .venv and install the package with its dev tools

system-deps: ## Install Chromium and Graphviz from apt when missing (needs root)
	bash scripts/install-system-deps.sh

demo: setup ## Process the bundled sample batch into ./var and print a summary
	bash scripts/demo.sh

orchestrate: setup ## Start the Dagster UI + daemon on 127.0.0.1:3000 (DAGSTER_HOME=var/dagster)
	$(BIN)/shopdata orchestrate

lint: setup ## ruff (lint + format check), sqlfluff, hadolint
	$(BIN)/ruff check src tests bench infra scripts tools
	$(BIN)/ruff format --check src tests bench infra scripts tools
	$(BIN)/sqlfluff lint src/shopdata/salesdb/sql analytics/questions
	$(BIN)/hadolint db/Dockerfile

format: setup ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix src tests bench infra scripts tools
	$(BIN)/ruff format src tests bench infra scripts tools

typecheck: setup ## mypy (strict) on src/
	$(BIN)/mypy src

pytest: setup system-deps ## Run the test suite only
	$(BIN)/pytest

test: setup system-deps lint typecheck infra-check pytest ## Setup, lint, type-check and run every test

# Part of `pytest` (so of `make test`); this target runs it alone.
wheel-smoke: setup ## Build the wheel, install it in a fresh venv outside the checkout, run every component
	$(BIN)/pytest tests/test_wheel.py -q

bench: setup ## Run every benchmark under bench/ and print its figures
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

# Every generator is tools/<name>.py DOCS_DIR; tools/make_docs.py lists them and what they write.
# analytics-docs is a prerequisite rather than one of that list: its lineage picture is a dbt
# docs page, whose layout is not checked pixel by pixel (tests/analytics checks the manifest).
docs: setup system-deps analytics-docs ## Regenerate every generated doc and picture (CLI reference, ERD, access matrix, diagrams, screenshots, dbt lineage)
	$(BIN)/python tools/make_docs.py docs

analytics-docs: setup system-deps ## dbt docs generate for analytics/ and the lineage screenshot docs/analytics-lineage.png
	DBT_SEND_ANONYMOUS_USAGE_STATS=false $(BIN)/python tools/analytics_docs.py docs

# checkov pins libraries that clash with ours, so it lives in its own venv, pinned, offline.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet 'checkov==$(CHECKOV_VERSION)'
	touch $@

infra-check: setup $(CHECKOV_VENV)/.installed ## Synthesise the CDK app offline; cfn-lint and checkov must report nothing
	rm -rf var/cdk.out
	$(BIN)/python infra/app.py var/cdk.out
	$(BIN)/cfn-lint var/cdk.out/*.template.json
	BC_SKIP_MAPPING=TRUE CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(CHECKOV_VENV)/bin/checkov \
	  --framework cloudformation --skip-download --compact --quiet \
	  $$(for f in var/cdk.out/*.template.json; do printf -- '-f %s ' "$$f"; done)

# Mutation testing is slow and needs its own tools (the `mutation` extra), so CI does not run it.
MUTATION_STAMP := $(VENV)/.mutation-installed
$(MUTATION_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,infra,mutation]'
	touch $@

mutation: $(MUTATION_STAMP) ## Mutation-test the pure rules (mutmut), print the survivors (slow)
	rm -rf mutants
	POLARS_MAX_THREADS=1 $(BIN)/mutmut run --max-children 2
	$(BIN)/mutmut results

sql-mutation: setup ## One-line mutations of the init and analyst SQL against the database tests (slow)
	$(BIN)/python tools/sql_mutations.py

clean: ## Remove generated state (not the committed docs)
	rm -rf var .pytest_cache .mypy_cache .ruff_cache mutants
