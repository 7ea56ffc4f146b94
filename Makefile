# `make demo` and `make test` each bootstrap .venv when it is missing, from PYTHON: unless given
# (make PYTHON=/path/to/python3), the first of PYTHON_CANDIDATES that is Python 3.11 or newer
# and can make a venv, else python3. The distribution's own /usr/bin/python3 comes before the
# python3 that PATH finds first: Debian, Ubuntu and Fedora build theirs with profile-guided and
# link-time optimisation, as the Docker image's python:3.11 is built, while a python3 that pyenv
# or asdf compiled has neither unless asked for. On one 2-core machine the first sync of 20,000
# records (bench/ingest_ratio.py --workers 3) took a median 14.1 s (5 rounds) on Debian's 3.11.2
# against 18.0 s (3 rounds) on pyenv's 3.11.7. A .venv made earlier is kept: `make clean` first.
PYTHON_CANDIDATES ?= /usr/bin/python3 python3
PYTHON ?= $(shell for p in $(PYTHON_CANDIDATES); do "$$p" -c 'import ensurepip, sys, venv; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo "$$p"; exit; }; done; echo python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench schema lock clean bytecode python

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# requirements.lock pins every package (runtime and dev); govhub itself goes on top without
# resolving anything again. The Dockerfile installs from the same file.
$(STAMP): $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# govhub's own modules, compiled ahead: pip compiles what it installs, not an editable
# project, and where PYTHONDONTWRITEBYTECODE is set (CI, containers) every command would
# compile them again at start (0.25 s of a 1.6 s start here). Only files changed since are
# redone (Python checks a source's time and size against its bytecode, as for any import).
# A file that does not compile is named here (-q prints errors only) and stops the target.
PACKAGES := hub schema resolvers domain connectors db sandbox console
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q $(PACKAGES)

demo: bytecode
	$(BIN)/govhub demo

test: bytecode
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest

bench: bytecode
	$(BIN)/python bench/run_all.py

schema: $(STAMP)
	$(BIN)/strawberry export-schema resolvers.root:schema --output schema.graphql

# After changing a bound in pyproject.toml: re-pin, then run `make test`.
lock: $(BIN)/python
	$(BIN)/python -m pip install --quiet pip-tools
	$(BIN)/pip-compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links --output-file requirements.lock pyproject.toml

# The interpreter a new .venv would be made from.
python:
	@echo $(PYTHON)

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
	find $(PACKAGES) tests bench -name __pycache__ -type d -prune -exec rm -rf {} +
