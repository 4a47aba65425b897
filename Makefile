# CSAT research workbench. `make help` lists the targets.
# The graph follows the data: data/raw -> (csat data) -> data/processed -> (csat reports) -> reports/
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DELETE_ON_ERROR:
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CSAT := $(BIN)/csat
SETUP_STAMP := $(VENV)/.installed
KERNEL_SPEC := $(VENV)/share/jupyter/kernels/csat/kernel.json

# The study to read: exports and their *.codebook.yaml. Another study: make reports RAW_DIR=~/my_study
# (absolute, or relative to this folder). csatlib reads it from CSAT_RAW_DIR (csatlib/config.py).
RAW_DIR ?= data/raw
# One report per value of these dimensions: make reports BY=country,business_unit
BY ?= country
RAW_DIR_ABS := $(abspath $(patsubst ~/%,$(HOME)/%,$(RAW_DIR)))
export CSAT_RAW_DIR := $(RAW_DIR_ABS)
RAW := $(wildcard $(addprefix $(RAW_DIR_ABS)/,*.csv *.txt *.yaml *.xlsx *.sav))
INGEST := $(wildcard csatlib/ingest/*.py csatlib/config.py csatlib/errors.py)
PROCESSED := data/processed/responses.parquet
# Holds the RAW_DIR the processed tables were built from; rewritten only when it changes, so
# switching studies rebuilds them even when the other study's files are older.
RAW_DIR_STAMP := data/processed/.raw_dir
SOURCES := $(wildcard csatlib/*.py csatlib/*/*.py)
BYTECODE_STAMP := $(VENV)/.compiled

.PHONY: help setup data reports sample test test-fast browser bench lab lint format clean distclean synth FORCE

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  RAW_DIR=folder   the study's exports and codebooks (default data/raw; now $(RAW_DIR))"
	@echo "  BY=dimensions    one report per value of each (default country; e.g. country,segment)"

setup: $(SETUP_STAMP) $(KERNEL_SPEC) ## Create .venv and install csatlib with its dev tools

$(SETUP_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing csatlib and its dependencies into $(VENV) (first run takes a few minutes)..."
	$(BIN)/python -m pip install --quiet --upgrade pip 2>&1 | { grep -v "^WARNING: Location" || true; }
	$(BIN)/python -m pip install --quiet -e '.[dev]' 2>&1 | { grep -v "^WARNING: Location" || true; }
	@touch $@

# The project's own Jupyter kernel, registered inside .venv (never in the user's home).
$(KERNEL_SPEC): $(SETUP_STAMP)
	$(BIN)/python -m ipykernel install --sys-prefix --name csat --display-name "CSAT workbench (.venv)" > /dev/null
	@touch $@

# csatlib's bytecode, written once: where PYTHONDONTWRITEBYTECODE is set, every process of a build
# (the command, the kernel fork server, the pool's workers) would otherwise compile it anew.
$(BYTECODE_STAMP): $(SOURCES) | setup
	$(BIN)/python -m compileall -q csatlib
	@touch $@

data: $(PROCESSED) ## Clean RAW_DIR (default data/raw) into data/processed (Parquet + cleaning log)

$(PROCESSED): $(RAW) $(INGEST) $(RAW_DIR_STAMP) | setup
	$(CSAT) data

$(RAW_DIR_STAMP): FORCE
	@test -d "$(RAW_DIR_ABS)" || { echo "RAW_DIR $(RAW_DIR_ABS) is not a folder" >&2; exit 1; }
	@mkdir -p $(@D)
	@if [ "$$(cat $@ 2>/dev/null)" != "$(RAW_DIR_ABS)" ]; then echo "$(RAW_DIR_ABS)" > $@; fi

FORCE:

reports: data setup $(BYTECODE_STAMP) ## Build every country report into reports/ (only what changed)
	$(CSAT) reports --by $(BY)

sample: setup ## Draw the deployment list for the next wave into reports/lists/deployment
	$(CSAT) sample --rate AMER=0.3 --rate EMEA=0.5 --rate APJ=1.0 --as-of 2026-10-01

# Coverage is asked for here, not in pytest's addopts, so that running one test stays quick.
# The test files are spread over TEST_WORKERS processes (pytest-xdist), each file whole in one of
# them, so that a file's module fixtures (report builds) are made once. One per core, at most 4:
# a test that builds reports starts its own pool and kernels, one per core.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n > 4 ? 4 : n )))
# csatlib's bytecode first: the tests start report builds, CLI runs and Dask workers, each a
# process that would otherwise compile csatlib anew where PYTHONDONTWRITEBYTECODE is set.
test: setup browser $(BYTECODE_STAMP) ## Run the whole test suite (slow checks included), with branch coverage
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --cov=csatlib --cov-branch --cov-report=term

test-fast: setup $(BYTECODE_STAMP) ## Run the tests without the slow checks
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not slow"

# Headless Chromium for tests/report/test_browser.py, installed here and never from a test. Where it
# cannot be (not root, no apt-get, apt-get failed) this says why and succeeds: those tests then skip,
# saying why, and the rest of `make test` runs.
browser: setup ## Install headless Chromium for the browser tests where possible (root + apt-get)
	@PYTHONPATH=tests $(BIN)/python -m support.browser \
	  || echo "browser: could not look for or install Chromium (see above); the browser tests will be skipped"

bench: data setup $(BYTECODE_STAMP) ## Benchmarks: prints timings and ratios against the named baselines
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b; done

lab: data setup ## Open JupyterLab on notebooks/ with the project's kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks

synth: setup ## Regenerate the synthetic sample in data/raw (the only writer of data/raw)
	$(CSAT) synth --out-dir data/raw

lint: setup ## ruff check + format check (code and notebooks)
	$(BIN)/ruff check csatlib tests benchmarks notebooks
	$(BIN)/ruff format --check csatlib tests benchmarks notebooks

format: setup ## ruff format code and notebooks
	$(BIN)/ruff format csatlib tests benchmarks notebooks

clean: ## Remove generated data and reports (keeps .venv and the program's history and case stores)
	rm -rf data/processed/* $(RAW_DIR_STAMP) .pytest_cache
	find reports -mindepth 1 -maxdepth 1 ! -name history.sqlite ! -name cases.sqlite -exec rm -rf {} +
	@touch data/processed/.gitkeep reports/.gitkeep

distclean: clean ## Also remove .venv
	rm -rf $(VENV)
