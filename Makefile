# Two commands on a fresh machine: `make run` (install + serve) and `make test` (install + test).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
PYTEST_ARGS ?=
BENCH_ARGS ?=  # e.g. BENCH_ARGS=--quick

.PHONY: install run test test-pg test-fast check lint fmt wrk bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first, pinned: the CPU build; the project's range then installs nothing more.
	$(BIN)/python -m pip install -q torch==2.13.0
	$(BIN)/python -m pip install -q -e ".[dev,postgres]"
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install  ## install, then serve http://127.0.0.1:8000 on SQLite with the bundled bank
	$(BIN)/transformer-quiz serve

test: install  ## install, then run the whole suite (unit, API, demos, bank, browser)
	$(BIN)/ruff check app tests bench
	$(BIN)/transformer-quiz check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-pg: install  ## the storage and API tests again, against a throwaway PostgreSQL
	eval "$$(scripts/pg-test-server start)" && \
	  $(BIN)/python -m pytest -m "not e2e and (deploy or not slow)" $(PYTEST_ARGS); rc=$$?; \
	  scripts/pg-test-server stop; exit $$rc

test-fast: install  ## the unit suite without the browser and server tests
	$(BIN)/python -m pytest -m "not e2e and not slow" $(PYTEST_ARGS)

check: install
	$(BIN)/transformer-quiz check

lint: install
	$(BIN)/ruff check app tests bench
	$(BIN)/ruff format --check app tests bench

fmt: install
	$(BIN)/ruff format app tests bench
	$(BIN)/ruff check --fix app tests bench

wrk:  ## the C load generator the server benchmark drives (Debian's package)
	@command -v wrk >/dev/null || { \
	  echo "installing wrk from Debian's packages" >&2; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo -n ); \
	  { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wrk; } >/dev/null 2>&1; \
	  command -v wrk >/dev/null || { echo "make bench needs wrk, the C load generator, and could not install it: run 'apt-get install wrk' as root (Debian/Ubuntu) or install your system's wrk package" >&2; exit 1; }; }

bench: install wrk  ## server load (wrk) vs a bare endpoint, every demo cold/cached vs raw; writes bench/RESULTS.md
	{ echo "# Benchmark results"; echo; \
	  echo "$$(date -u '+%F %H:%M UTC') · $$(uname -srm) · $$(nproc) cores · $$($(BIN)/python -V) · torch $$($(BIN)/python -c 'import torch; print(torch.__version__)')"; \
	  echo; echo "## Server"; echo; $(BIN)/python bench/http_load.py $(BENCH_ARGS); \
	  echo; echo "## Demos (default parameters)"; echo; $(BIN)/python bench/demos.py --markdown; } \
	  | tee bench/RESULTS.md.tmp && mv bench/RESULTS.md.tmp bench/RESULTS.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
