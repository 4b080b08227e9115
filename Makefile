# Everything a fresh machine with only python3 needs: the venv is made and filled here.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-stamp

.PHONY: demo test lint typecheck unit bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[cli,test]'
	touch $(STAMP)

# `musicapi demo`: the bundled musicapi_async/_data/demo.jsonl on the embedded emulator (no
# key, no credits): two dozen songs of every kind with the live display, audio files and a
# manifest in demo-output/, in under a minute.
demo: $(STAMP)
	rm -rf demo-output
	$(VENV)/bin/musicapi demo --speed 30 --out demo-output

test: lint typecheck unit

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

# Four workers (pytest-xdist): the suite mostly waits on sockets and subprocesses.
unit: $(STAMP)
	$(VENV)/bin/pytest -q -n 4

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[test,bench]'
	touch $(BENCH_STAMP)

# Writes benchmarks/RESULTS.md and its chart from a real run (under 10 minutes).
bench: $(BENCH_STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build dist *.egg-info
