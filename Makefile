# exitus: `make run` starts the whole local stack; `make test` runs every quality gate. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NODE_TOOLS := node_modules/.installed
PYTEST_ARGS ?=

.PHONY: help install run test lint format spec-lint pytest infra-test clean

help:
	@echo "make run         start PostgreSQL (.data/), migrate, dev issuer and the API; prints the Swagger UI URL and a token"
	@echo "make test        ruff, spec lint, and the test suite against a throwaway PostgreSQL (branch coverage >= 90%)"
	@echo "make infra-test  synthesize the AWS CDK app offline and check it"
	@echo "make format      apply ruff's formatting and safe fixes"

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(INSTALLED)

$(NODE_TOOLS): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

run: $(INSTALLED)
	$(BIN)/exitus dev-up

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

spec-lint: $(NODE_TOOLS)
	npx --no-install spectral lint openapi/exitus.yaml --fail-severity=warn

pytest: $(INSTALLED)
	$(BIN)/pytest --cov --cov-branch --cov-report=term --cov-fail-under=90 $(PYTEST_ARGS)

test: lint spec-lint pytest

infra-test:
	$(PYTHON) -m venv infra/.venv
	infra/.venv/bin/pip install --quiet -r infra/requirements.txt
	cd infra && .venv/bin/pytest -q tests

clean:
	rm -rf $(VENV) node_modules .pytest_cache .coverage htmlcov
