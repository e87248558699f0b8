# deepilst: `make demo` (set up and run the main job), `make test` (set up and run the tests)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test test-slow install gromacs votca lint bench models clean wheel-check

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test,cluster,ml]"
	touch $(STAMP)

install: $(STAMP)

# GROMACS from Debian where we are allowed to install it; otherwise the GROMACS tests skip
gromacs:
	@if command -v gmx >/dev/null 2>&1; then echo "gmx: $$(command -v gmx)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gromacs >/dev/null) \
	  || echo "warning: could not install gromacs; its tests will be skipped"; \
	else echo "warning: gmx not found and cannot apt-get install gromacs; its tests will be skipped"; fi

# VOTCA-CSG 2022.1 and gnuplot for the VOTCA baselines; otherwise their tests are skipped
votca:
	@if command -v csg_inverse >/dev/null 2>&1 && command -v gnuplot >/dev/null 2>&1; then \
	  echo "csg_inverse: $$(command -v csg_inverse)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq votca gnuplot-nox >/dev/null) \
	  || echo "warning: could not install votca; its tests will be skipped"; \
	else echo "warning: csg_inverse or gnuplot missing and cannot apt-get install votca gnuplot-nox; its tests will be skipped"; fi

demo: install
	$(BIN)/deepilst predict examples/argon_330K_16.5nm3.xvg --temperature 330 --density 16.5

lint: install
	$(BIN)/ruff check src tests benchmarks

test: install gromacs votca lint
	$(BIN)/pytest

test-slow: install gromacs
	$(BIN)/pytest -m slow

bench: install gromacs
	$(BIN)/python benchmarks/engine_overhead.py
	$(BIN)/python benchmarks/predict_speed.py

# a wheel installed into a fresh venv predicts the shipped example from another directory
wheel-check:
	scripts/check_wheel.sh

# retrain the shipped models from the committed datasets (about 10 min on 2 cores)
models: install
	scripts/train_models.sh

clean:
	rm -rf $(VENV) out .pytest_cache
