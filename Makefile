# Asterism: two commands on a fresh machine.
#   make demo  - install, ingest the sample collection, build, serve (embedded default backends)
#   make test  - lint, type-check and run the test suite (uses the local PostgreSQL and Redis)
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
SHARED_DATA ?= $(abspath ../shared/data)
export ASTERISM_HOME ?= $(abspath ./asterism-data)
PORT ?= 8000

.PHONY: setup system-deps web demo serve ingest-samples build test lint typecheck bench fuzz soak clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is needed (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# System packages, installed with apt when missing (root or sudo): Tesseract for OCR, and
# Chromium for the browser tests (Playwright drives Debian's /usr/bin/chromium; nothing is downloaded).
system-deps:
	@missing=""; \
	command -v tesseract >/dev/null || missing="$$missing tesseract-ocr tesseract-ocr-eng"; \
	[ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $$missing; \
	fi

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev,ray]'
	touch $@

setup: system-deps $(VENV)/.installed

ingest-samples: setup
	@if [ -d "$(SHARED_DATA)/aic-paintings" ]; then \
	  $(BIN)/asterism ingest sample $(SHARED_DATA)/aic-paintings && \
	  $(BIN)/asterism ingest sample $(SHARED_DATA)/aic-objects; \
	else \
	  echo "No shared sample data at $(SHARED_DATA): fetching public-domain works live from the AIC API"; \
	  $(BIN)/asterism ingest aic --public-domain --limit 300; \
	fi
	$(BIN)/asterism stats

# The representation stages (embeddings + indexes); PainterPalette seeds the knowledge graph when present.
build: ingest-samples
	@if [ -f "$(SHARED_DATA)/knowledge/PainterPalette.csv" ]; then \
	  $(BIN)/asterism build --painters $(SHARED_DATA)/knowledge/PainterPalette.csv; \
	else \
	  $(BIN)/asterism build; \
	fi
	$(BIN)/asterism models list   # which image models are active, and how to pull a better one

# The web UI (React + Vite) into web/dist, which `asterism serve` serves at /. Needs Node >= 20.19.
WEB_SOURCES := $(shell find web/src -type f 2>/dev/null) web/index.html web/package.json web/vite.config.js
web/dist/index.html: $(WEB_SOURCES) web/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to build the web UI (Node >= 20.19)"; exit 1; }
	cd web && npm install --no-audit --no-fund --loglevel=error && npm run build  # not `npm ci`: npm 11 rejects its own lock file over a Windows-only optional dependency of vite
web: web/dist/index.html

serve: setup web
	@echo "Open http://127.0.0.1:$(PORT)/  (API docs: http://127.0.0.1:$(PORT)/docs)"
	$(BIN)/asterism serve --host 127.0.0.1 --port $(PORT)

demo: build web serve

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: setup
	$(BIN)/mypy

test: lint typecheck web
	$(BIN)/pytest -q -ra

bench: setup
	$(BIN)/python bench/ingest.py --data $(SHARED_DATA)

# Hostile input against a running `asterism serve` on a freshly built sample home (figures: bench/RESULTS.md).
#   make fuzz  - 10,000 hostile uploads + 10,000 hostile requests: no 5xx, none over 2 s, RSS bounded
#   make soak  - 50 clients x 10 minutes of mixed traffic: no errors, p50/p99 per kind, RSS flat
# Options pass through, e.g. make fuzz FUZZ_ARGS="--seed 2"; make soak SOAK_ARGS="--seconds 120".
fuzz: setup
	$(BIN)/python bench/fuzz.py --data $(SHARED_DATA) $(FUZZ_ARGS)

soak: setup
	$(BIN)/python bench/soak.py --data $(SHARED_DATA) $(SOAK_ARGS)

clean:
	rm -rf $(VENV) asterism-data .pytest_cache .mypy_cache .ruff_cache
