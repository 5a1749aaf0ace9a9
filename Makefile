# Two commands on a fresh machine: `make demo` (install + the Neo-Latin demo) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# torch first, pinned to the CPU wheel: an unpinned torch pulls a multi-GB CUDA build.
TORCH ?= torch==2.13.0
# Nothing outside this folder: pip's download cache and the demo's corpus cache live in .cache/ (git-ignored),
# matplotlib's font cache in a temporary folder (hf_ser sets MPLCONFIGDIR); HOME is left untouched.
export PIP_CACHE_DIR ?= $(CURDIR)/.cache/pip
DEMO_CACHE := .cache/hf_ser

.PHONY: install demo test test-fast bench clean

$(BIN)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/python -m hf_ser.recipe neo_latin --demo --output_dir runs/demo --cache_dir $(DEMO_CACHE)

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -ra

test-fast: install
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not slow"

bench: install
	$(BIN)/python benchmarks/run_all.py --output benchmarks/results.json

clean:
	rm -rf $(VENV) runs build *.egg-info
