# Two commands on a fresh machine: `make run` (install + serve) and `make test` (install + test).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) 2>/dev/null | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=
BENCH_ARGS ?=  # e.g. BENCH_ARGS=--quick
# torch: the CPU build from PyTorch's CPU wheel index (PyPI's default Linux wheel is the CUDA
# build, several GB of nvidia-* wheels). Point TORCH_INDEX_URL elsewhere to override, e.g.
# https://download.pytorch.org/whl/cu126 for a GPU. An index that does not answer fails fast (no
# retries) and the default index is tried instead.
TORCH_VERSION := 2.13.0
TORCH_INDEX_URL ?= https://download.pytorch.org/whl/cpu
FAST_FAIL := --timeout 5 --retries 0

.PHONY: install run test test-pg test-fast check lint fmt wrk bench clean lock chromium

# Installs torch alone (no deps) from TORCH_INDEX_URL, then the app and everything else with the
# versions pinned in requirements.lock; ends with one line naming the torch build installed.
define install_into
	$(1)/python -m pip install -q $(FAST_FAIL) --no-deps --index-url $(TORCH_INDEX_URL) \
	    torch==$(TORCH_VERSION) \
	  || { echo "== $(TORCH_INDEX_URL) did not serve torch $(TORCH_VERSION); trying the default index"; \
	       $(1)/python -m pip install -q --no-deps torch==$(TORCH_VERSION); }
	$(1)/python -m pip install -q $(2) -e ".[dev,postgres]"
	@$(1)/python -c "import torch; b = f'CUDA {torch.version.cuda}' if torch.version.cuda else 'CPU-only'; print(f'== torch {torch.__version__} installed: {b} build')"
endef

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(call install_into,$(BIN),-c $(LOCK))
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

lock:  ## re-pin requirements.lock from a fresh venv (after changing dependencies in pyproject.toml)
	rm -rf .lock-venv && $(PY) -m venv .lock-venv
	$(call install_into,.lock-venv/bin,)
	{ echo "# Pinned by \`make lock\` ($$(date -u +%F), $$(.lock-venv/bin/python -V)); \`make install\` uses it with -c."; \
	  echo "# torch comes from TORCH_INDEX_URL (see Makefile); nvidia-*/triton (CUDA only) are left out."; \
	  echo "torch==$(TORCH_VERSION)"; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable \
	    | grep -v -i -E '^(torch|nvidia-|triton)([=_-]|$$)' | sort -f; } > $(LOCK).tmp
	mv $(LOCK).tmp $(LOCK) && rm -rf .lock-venv
	@echo "== $(LOCK): $$(grep -c '==' $(LOCK)) pins"

# The browser tests drive a Chromium: TQ_CHROMIUM, else one on PATH (chromium, chromium-browser,
# google-chrome), else Playwright's own (installed here if missing); else one line saying how to
# get one, and a failure: the browser tests are never skipped silently.
FIND_CHROMIUM := from tests.e2e.conftest import find_chromium, HOW_TO; import sys; \
	p = find_chromium(); print('== chromium: ' + (p or HOW_TO)); sys.exit(0 if p else 1)
chromium: install
	@$(BIN)/python -c "$(FIND_CHROMIUM)" 2>/dev/null \
	  || { $(BIN)/python -m playwright install chromium >/dev/null 2>&1; \
	       $(BIN)/python -c "$(FIND_CHROMIUM)"; }

run: install  ## install, then serve http://127.0.0.1:8000 on SQLite with the bundled bank
	$(BIN)/transformer-quiz serve

test: install chromium  ## install, then run the whole suite (unit, API, demos, bank, browser)
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

bench: install wrk  ## server load (wrk) vs a bare endpoint, every demo cold/cached vs raw, the pool under a flood, drills; writes bench/RESULTS.md
	{ echo "# Benchmark results"; echo; \
	  echo "$$(date -u '+%F %H:%M UTC') · $$(uname -srm) · $$(nproc) cores · $$($(BIN)/python -V) · torch $$($(BIN)/python -c 'import torch; print(torch.__version__)')"; \
	  echo; echo "## Server"; echo; $(BIN)/python bench/http_load.py $(BENCH_ARGS); \
	  echo; echo "## Demos (default parameters)"; echo; $(BIN)/python bench/demos.py --markdown; \
	  echo; echo "## The compute pool under a flood"; echo; $(BIN)/python bench/flood.py; \
	  echo; echo "## Drills through the sandbox"; echo; $(BIN)/python bench/drills.py; } \
	  | tee bench/RESULTS.md.tmp && mv bench/RESULTS.md.tmp bench/RESULTS.md

clean:
	rm -rf $(VENV) .lock-venv .pytest_cache .ruff_cache
