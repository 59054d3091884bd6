# Two commands a newcomer needs: `make run` and `make test`. Both build their own venv.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SAMPLE ?= resources/samples/ludb_3.hea

.PHONY: run test test-slow lint bench bundle clean venv fuzz
.DEFAULT_GOAL := run

# The viewer needs only the app; tests also exercise the training code (torch 2.13.0, the CPU wheel).
$(VENV)/.app: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.app
	# torch==2.13.0 (train extra) is the CPU wheel; never let pip pick an unpinned torch
	$(PY) -m pip install -q -e ".[test,train]"
	touch $@

venv: $(VENV)/.installed

run: $(VENV)/.app
	./scripts/system-deps.sh
	$(VENV)/bin/ecgrecon-viewer $(SAMPLE)

test: venv
	./scripts/system-deps.sh
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not slow"

test-slow: venv
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m slow

lint: venv
	$(VENV)/bin/ruff check app tests scripts benchmarks

bench: venv
	$(PY) benchmarks/run_all.py

# Mutation fuzzing of every reader (docs/robustness.md): N inputs per reader, each read in a child process
# with a 5 s and 2 GiB limit; prints the figures and writes build/fuzz/report.json (report.jsonl as it
# goes, failing cases under build/fuzz/failing). `make fuzz FUZZ_N=1000` for a shorter run.
FUZZ_N    ?= 10000
FUZZ_JOBS ?= 2
fuzz: venv
	nice -n 10 $(PY) -m ecgrecon.fuzz --n $(FUZZ_N) --jobs $(FUZZ_JOBS) --out build/fuzz/report.json --log build/fuzz/report.jsonl --keep build/fuzz/failing

bundle: venv
	PY=$(PY) ./packaging/build_bundle.sh

clean:
	rm -rf $(VENV) build dist .pytest_cache
