# Two entry points for a fresh machine with only Python 3.11 and make:
#   make demo   installs into .venv and starts the demo (identity provider, five centres, gateway)
#   make test   installs into .venv and runs lint, types and the test suite
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000

.PHONY: demo test lint typecheck pytest install schema bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/onedoor demo --port $(PORT)

# The browser tests (portal, GraphiQL) need Debian's Chromium (and a Chinese font
# for the screenshots); installed here when running as root with apt, skipped
# otherwise. Only those two packages and what they require: no recommended
# packages (without the flag apt pulls in ~115, systemd and udev among them) and
# no upgrades of what is already installed.
browser:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade \
	    chromium fonts-wqy-zenhei \
	  || echo "chromium install failed: the browser tests will skip"; \
	else echo "no /usr/bin/chromium and no root apt-get: the browser tests will skip"; fi

test: $(STAMP) browser
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest

schema: $(STAMP)
	$(BIN)/onedoor schema > schema/schema.graphql
	$(BIN)/python -m schema.subgraph > schema/subgraph.graphql
	$(BIN)/python -m schema.reference > docs/schema-reference.md

# make bench BENCH_ARGS=--fast: a smoke run (one round, 1 s loads); --no-peer: OneDoor only
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .onedoor .pytest_cache .mypy_cache .ruff_cache
