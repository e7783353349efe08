# exitus: `make run` starts the whole local stack; `make test` runs every quality gate. Both set themselves up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
NODE_TOOLS := node_modules/.installed
PYTEST_ARGS ?=
BENCH_ARGS ?=

.PHONY: help install lock run test lint format spec-lint pytest infra-test clean compose-up compose-config soak bench bench-ab fuzz \
	mutate sdk contract release-contract

help:
	@echo "make run         start PostgreSQL (.data/), migrate, dev issuer and the API; prints the Swagger UI URL and a token"
	@echo "                 (ISSUER_PORT=9401 moves the dev issuer, ADDR=127.0.0.1:8081 the API)"
	@echo "make test        ruff, spec lint, and the test suite against a throwaway PostgreSQL (branch coverage >= 90%)"
	@echo "make infra-test  synthesize the AWS CDK app offline and check it"
	@echo "make fuzz        schemathesis with a large budget (EXITUS_FUZZ_EXAMPLES=100, EXITUS_FUZZ_MAX_TIME=900 s, EXITUS_FUZZ_SEED)"
	@echo "make bench       exitus vs a bare Flask reference and /healthz at 10k/100k/1M issues (~30 min; BENCH_ARGS; bench/README.md)"
	@echo "make bench-ab    commits side by side in one run: REVS=\"73a8f92 HEAD\" (GET issue and /healthz; bench/ab.py)"
	@echo "make soak        10 minutes of mixed load at 64 connections on a local stack (SOAK_DURATION, SOAK_CONNECTIONS; bench/README.md)"
	@echo "make mutate      mutation testing of the security core: mutmut + textual mutants of SQL and the spec (MUTATE_ARGS; hours)"
	@echo "make lock        recompile requirements/*.lock and infra/requirements.lock from pyproject.toml (LOCK_ARGS=--upgrade)"
	@echo "make format      apply ruff's formatting and safe fixes"
	@echo "make contract    fail on spec changes that break clients of openapi/released/exitus.yaml (Optic), unless released as such"
	@echo "make release-contract  the spec becomes the released contract (after info.version and CHANGELOG.md say so)"
	@echo "make sdk         regenerate the Python client clients/python/ from the spec (commit it; make test fails on drift)"
	@echo "make compose-up  the local stack in Docker: PostgreSQL, exitus, OpenID provider, Prometheus, Jaeger"
	@echo "make compose-config  validate docker-compose.yml (quietly: the resolved file would print the secrets)"

# The system tools each target needs are listed in tools/prerequisites, which installs what is missing (as root, with
# apt-get) or names all of it in one line and stops. `prerequisites-test` checks `make test`'s, and so on.
prerequisites-%:
	@PYTHON=$(PYTHON) tools/prerequisites $*

# Exact versions with hashes, compiled from pyproject.toml's ranges by `make lock`: dev.lock (runtime, dev and mutation
# extras) for the checkout's venv and CI, runtime.lock (the same versions, runtime only) for the Dockerfile. The pip a
# fresh venv ships is enough: everything is pinned, so it has nothing to resolve.
LOCK := requirements/dev.lock
export PIP_DISABLE_PIP_VERSION_CHECK := 1
$(INSTALLED): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

install: prerequisites-install $(INSTALLED)

# Keeps the pinned versions that still satisfy pyproject.toml; LOCK_ARGS=--upgrade (or --upgrade-package NAME) moves
# them. One resolution for every platform and Python >= 3.11 (--universal), so the lock does not depend on where it ran.
LOCK_ARGS ?=
LOCK_FLAGS := --quiet --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" $(LOCK_ARGS)
lock: prerequisites-lock $(INSTALLED)
	$(BIN)/uv pip compile $(LOCK_FLAGS) pyproject.toml --extra dev --extra mutation -o $(LOCK)
	$(BIN)/uv pip compile $(LOCK_FLAGS) pyproject.toml -c $(LOCK) -o requirements/runtime.lock
	$(BIN)/uv pip compile $(LOCK_FLAGS) infra/requirements.txt -o infra/requirements.lock

$(NODE_TOOLS): package.json package-lock.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# ISSUER_PORT moves the dev issuer (default 9400); ADDR moves the API (default 127.0.0.1:8080).
run: prerequisites-run $(INSTALLED)
	$(BIN)/exitus dev-up $(if $(ISSUER_PORT),--issuer-port $(ISSUER_PORT))

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

spec-lint: prerequisites-spec-lint $(NODE_TOOLS)
	npx --no-install spectral lint openapi/exitus.yaml --fail-severity=warn

# The coverage gate (90 %) is the full run's: a run narrowed by PYTEST_ARGS (`PYTEST_ARGS="-k issues" make test`)
# reports coverage but cannot reach it, so it does not fail on it.
COVERAGE_GATE := $(if $(strip $(PYTEST_ARGS)),0,90)

pytest: prerequisites-test $(INSTALLED) $(NODE_TOOLS)  # node_modules: oidc-provider for tests/interop
	$(BIN)/pytest --cov --cov-branch --cov-report=term --cov-fail-under=$(COVERAGE_GATE) $(PYTEST_ARGS)

# Breaking changes against the last released contract need a release that says so (tests/contract/check.py).
contract: $(INSTALLED) $(NODE_TOOLS)
	$(BIN)/python -m tests.contract.check

release-contract: $(INSTALLED)
	$(BIN)/python -m tests.contract.check --release

test: prerequisites-test lint spec-lint contract pytest

# The generated Python client (clients/python/README.md); tests/test_sdk.py fails while it differs from a fresh one.
sdk: $(INSTALLED)
	$(BIN)/python clients/generate.py clients/python

soak: prerequisites-soak $(INSTALLED)
	$(BIN)/python -m bench.soak

# Keeps its PostgreSQL cluster and seeded databases in .bench/ between runs.
bench: prerequisites-bench $(INSTALLED)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# Commits side by side in one run (bench/ab.py): make bench-ab REVS="73a8f92 HEAD"
bench-ab: prerequisites-bench-ab $(INSTALLED)
	$(BIN)/python -m bench.ab $(REVS)

# The seed is printed first, pass or fail: EXITUS_FUZZ_SEED=<it> make fuzz replays the run.
fuzz: prerequisites-fuzz $(INSTALLED)
	@seed=$${EXITUS_FUZZ_SEED:-$$RANDOM}; echo "make fuzz: EXITUS_FUZZ_SEED=$$seed"; \
		EXITUS_FUZZ_EXAMPLES=$${EXITUS_FUZZ_EXAMPLES:-100} EXITUS_FUZZ_MAX_TIME=$${EXITUS_FUZZ_MAX_TIME:-900} \
		EXITUS_FUZZ_SEED=$$seed $(BIN)/pytest -q tests/test_schemathesis.py $(PYTEST_ARGS); \
		status=$$?; echo "make fuzz: EXITUS_FUZZ_SEED=$$seed (exit $$status)"; exit $$status

# Not part of `make test` (hours on 2 cores). Works on a copy in .mutation/, and writes its report there.
# MUTATE_ARGS="--only text", "--only python --module exitus/auth.py", "--match issues.sql" narrow it.
MUTATE_ARGS ?=
mutate: $(INSTALLED)
	$(BIN)/python -m tests.mutation.run $(MUTATE_ARGS)

# infra/requirements.txt lists what the CDK app needs; `make lock` pins it, with hashes, in infra/requirements.lock.
infra-test: prerequisites-infra-test
	$(PYTHON) -m venv infra/.venv
	infra/.venv/bin/pip install --quiet --require-hashes -r infra/requirements.lock
	cd infra && .venv/bin/pytest -q tests

# Needs Docker with the compose plugin, and POSTGRES_PASSWORD and OIDC_CLIENT_SECRET exported (.envrc.example).
compose-up:
	docker compose up --build

compose-config:
	docker compose config --quiet

clean:
	rm -rf $(VENV) node_modules .pytest_cache .coverage htmlcov .mutation
