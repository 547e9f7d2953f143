# devia: `make run` serves the assistant on http://127.0.0.1:8000, `make test` runs the suite.
# Both work on a machine that has never seen the project (package registry access only).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := $(VENV)/.devia-stamps
SITE := $(VENV)/lib/python3.11/site-packages
DATA_DIR ?= var
DEMO_DIR := $(DATA_DIR)/demo-plant

# Offline at run time: nothing may download models, tokenizers or telemetry.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export HF_DATASETS_OFFLINE := 1
export RAGAS_DO_NOT_TRACK := true
export DO_NOT_TRACK := 1
export ANONYMIZED_TELEMETRY := False
export TOKENIZERS_PARALLELISM := false
export TIKTOKEN_CACHE_DIR := $(abspath $(SITE))/llama_index/core/_static/tiktoken_cache
export DEVIA_DATA_DIR ?= $(DATA_DIR)

# llama.cpp is compiled here, for this machine's CPU. Its native build (-march=native) crashes on
# these Xeons in the AMX kernels, so the instruction sets are picked from /proc/cpuinfo instead:
# AVX-512 with VNNI, BF16 and VBMI where the CPU has all of them (prompt processing 1.6x faster
# than AVX2 on the 1.5B model), AVX2 otherwise; AMX stays off. LLAMA_CPU=avx2 forces the
# portable build (for a venv copied to other machines).
LLAMA_CPU ?= auto
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
HAS_AVX512 := $(and $(filter avx512f,$(CPU_FLAGS)),$(filter avx512_vnni,$(CPU_FLAGS)),$(filter avx512_bf16,$(CPU_FLAGS)),$(filter avx512vbmi,$(CPU_FLAGS)))
LLAMA_ISA := $(if $(and $(filter auto,$(LLAMA_CPU)),$(HAS_AVX512)),avx512,avx2)
LLAMA_CMAKE_ARGS := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON \
	-DGGML_F16C=ON -DLLAVA_BUILD=OFF
ifeq ($(LLAMA_ISA),avx512)
LLAMA_CMAKE_ARGS += -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON \
	-DGGML_AVX512_VBMI=ON -DGGML_AVX_VNNI=ON
endif
LLAMA_VERSION := 0.3.36
# The stamp names the build, so changing the flags (or LLAMA_CPU) recompiles.
LLAMA_STAMP := $(STAMPS)/llama-$(LLAMA_VERSION)-$(LLAMA_ISA)

.PHONY: help install models models-test demo ingest-demo run serve test test-only test-postgres lint eval bench lock clean browser sbom

help:
	@echo "make run    - install, provision the model, ingest the demo plant, serve on :8000"
	@echo "make test   - install, lint, and run the test suite"
	@echo "make lint   - ruff + mypy"
	@echo "make eval   - full evaluation suites (see README)"
	@echo "make bench  - benchmarks (see README)"
	@echo "make sbom   - CycloneDX SBOM of the installed, pinned dependencies ($(DATA_DIR)/sbom.cdx.json)"

$(STAMPS)/venv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip==25.3 wheel setuptools
	mkdir -p $(STAMPS) && touch $@

# torch first: the local CPU wheel; any other resolution pulls several GB of CUDA builds.
$(STAMPS)/deps: requirements.lock $(STAMPS)/venv
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -r requirements.lock
	touch $@

# Compiled from the sdist with safe flags, never from pip's wheel cache (which ignores CMAKE_ARGS).
$(LLAMA_STAMP): $(STAMPS)/deps
	@echo "compiling llama.cpp for $(LLAMA_ISA)"
	$(BIN)/pip uninstall -q -y llama-cpp-python  # else pip keeps a build with other flags
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" FORCE_CMAKE=1 $(BIN)/pip install -q --no-cache-dir \
		--no-binary llama-cpp-python "llama-cpp-python[server]==$(LLAMA_VERSION)"
	touch $@

$(STAMPS)/project: pyproject.toml $(LLAMA_STAMP)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

install: $(STAMPS)/project

models: install
	$(BIN)/devia models install --model qwen2.5-coder-1.5b

models-test: install
	$(BIN)/devia models install --model qwen2.5-coder-0.5b

# Generated once (deterministic, seed 7); ingestion skips files it has already indexed unchanged.
$(DEMO_DIR)/manifest.json: | $(STAMPS)/project
	$(BIN)/devia demo generate --seed 7 --out $(DEMO_DIR)

demo: $(DEMO_DIR)/manifest.json

ingest-demo: demo
	$(BIN)/devia ingest $(DEMO_DIR) --site SITE-A

run: models ingest-demo
	$(BIN)/devia serve --host 127.0.0.1 --port 8000

serve: install
	$(BIN)/devia serve --host 127.0.0.1 --port 8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint models-test browser test-only

test-only: install
	$(BIN)/python -m pytest -q

# Debian's Chromium for the browser tests of the web UI (tests/ui); Playwright never downloads one.
browser:
	@test -x /usr/bin/chromium || { apt-get update -q && apt-get install -y --no-install-recommends chromium; }

# The records store suite against PostgreSQL (.ci/postgres.sh starts one on loopback).
test-postgres: install
	@test -n "$(DEVIA_TEST_DB_URL)" || { echo "set DEVIA_TEST_DB_URL (see .ci/postgres.sh)"; exit 2; }
	DEVIA_TEST_DB_URL="$(DEVIA_TEST_DB_URL)" $(BIN)/python -m pytest -q tests/api tests/deploy

# Every suite; each run is kept as $(DATA_DIR)/eval/<suite>/<UTC time>.json, then
# `devia eval report` renders $(DATA_DIR)/eval/report/report.{md,html} with deltas and plots.
# Model-based suites use the configured model (default 1.5B); faithfulness judges a sample.
EVAL_FAITHFULNESS_LIMIT ?= 6
eval: models
	stamp=$$(date -u +%Y%m%dT%H%M%SZ) && \
	$(BIN)/devia eval recalls --json $(DATA_DIR)/eval/recalls/$$stamp.json && \
	$(BIN)/devia eval claims --json $(DATA_DIR)/eval/claims/$$stamp.json && \
	$(BIN)/devia eval plant --json $(DATA_DIR)/eval/plant/$$stamp.json
	$(BIN)/devia eval cfr-qa
	$(BIN)/devia eval di-qa
	$(BIN)/devia eval q3c-tables
	$(BIN)/devia eval faithfulness --limit $(EVAL_FAITHFULNESS_LIMIT)
	$(BIN)/devia eval report

bench: models
	$(BIN)/devia bench llm --json $(DATA_DIR)/bench/llm.json

# Re-pin every transitive dependency from requirements.in (needs the registry).
lock:
	rm -rf /tmp/devia-lock-venv && $(PYTHON) -m venv /tmp/devia-lock-venv
	/tmp/devia-lock-venv/bin/pip install -q torch==2.13.0 && /tmp/devia-lock-venv/bin/pip install -q -r requirements.in
	/tmp/devia-lock-venv/bin/pip freeze --exclude-editable | grep -v -i '^llama.cpp.python' > requirements.lock

# Software bill of materials (CycloneDX JSON) of the environment installed from requirements.lock
# (plus llama-cpp-python, compiled from source); tests/security/test_sbom.py checks it.
sbom: install
	mkdir -p $(DATA_DIR)
	$(BIN)/cyclonedx-py environment $(BIN)/python --pyproject pyproject.toml --of JSON \
		--output-reproducible --validate -o $(DATA_DIR)/sbom.cdx.json
	@echo "SBOM: $(DATA_DIR)/sbom.cdx.json"

clean:
	rm -rf $(VENV) $(DATA_DIR)
