# Two commands on a fresh clone (each installs what it needs into .venv):
#   make book   -- build the browsable HTML book into _build/html (no chapter is re-executed)
#   make test   -- run the unit tests and execute every chapter at its CI scale (nbval), offline
# Others: make test-smoke (seconds-scale tests only), make test-pocket (real models and data), make test-gpu,
#         make publish CHAPTER=01 (rerun a chapter with its defaults and refresh its page), make bench (every CPU
#         benchmark, then one table of ratios; make bench BENCH_ARGS=--quick skips the whole training runs),
#         make check-book (the built book renders its charts and math offline, in headless Chromium),
#         make lint / make format (ruff; make test runs lint first),
#         make mirror DIR=/path/to/new/mirror (build the full data mirror from the Hugging Face hub; needs the network).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The local data mirror: $SRL_DATA_DIR if set, else a shared/data folder beside the checkout when there is one.
# With neither, the tests read the small mirror committed in tests/fixture_data (conftest.py), other targets the hub.
SRL_DATA_DIR ?= $(if $(wildcard ../shared/data/SHA256SUMS),$(abspath ../shared/data),)
export SRL_DATA_DIR

.PHONY: install book test lint format test-smoke test-pocket test-gpu check-book publish bench mirror clean

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps \
		--config-settings editable_mode=compat -e .
	touch $@

install: $(STAMP)

book: $(STAMP)
	$(BIN)/python -m lib.book.pages
	$(BIN)/jupyter-book build . --warningiserror --keep-going --quiet
	@echo "The book: _build/html/index.html"

test: lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test-smoke: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m "not pocket and not gpu"

test-pocket: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m pocket

test-gpu: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -m gpu

check-book: $(STAMP)
	$(BIN)/python -m pytest tests/rendered_book.py -p no:nbval -p no:cacheprovider -o addopts="" -q

publish: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m lib.run $(CHAPTER) --publish

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python benchmarks/run_all.py $(BENCH_ARGS)

mirror: $(STAMP)
	@test -n "$(DIR)" || { echo "usage: make mirror DIR=/path/to/new/mirror (a folder that does not exist yet)"; exit 2; }
	$(BIN)/python -m lib.data_mirror --out "$(DIR)"

clean:
	rm -rf _build runs
