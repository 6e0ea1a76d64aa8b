# sesreport: `make demo` builds the demo documents, `make test` runs the whole test suite.
# Both set everything up on a fresh machine: a virtual environment in .venv and, on Debian or
# Ubuntu, the few system packages WeasyPrint and the tests need (see scripts/system-deps.sh).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench bytecode system-deps clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

system-deps:
	@sh scripts/system-deps.sh

# the package's bytecode, brought up to date: every run then reads it rather than compiling the
# sources again (which Python does on every run where PYTHONDONTWRITEBYTECODE is set)
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q sesreport generate.py

demo: system-deps bytecode
	$(BIN)/python generate.py build --out output
	@echo "Documents are in $(CURDIR)/output"

test: system-deps bytecode
	$(BIN)/ruff check sesreport tests scripts generate.py
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: system-deps bytecode
	$(BIN)/python scripts/benchmark.py
	$(BIN)/python scripts/benchmark_index.py
	$(BIN)/python scripts/benchmark_large_csv.py
	$(BIN)/python scripts/benchmark_charts.py

clean:
	rm -rf output .cache
