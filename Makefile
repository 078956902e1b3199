# Every target bootstraps .venv first, so a fresh clone needs only Python 3.11, git and make.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint venv

venv: $(STAMP)

# torch goes in first, pinned to the CPU build: openai-whisper would otherwise pull
# a multi-GB CUDA build of torch.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.*"
	$(PY) -m pip install --quiet -e ".[dev,postgres]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/hotline demo demo-station

# HOTLINE_TEST_DB=postgresql runs the suite on PostgreSQL stations (tests/conftest.py);
# PYTEST_ARGS adds options, e.g. PYTEST_ARGS="-n 2" for two workers (pytest-xdist).
test: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(PY) $$b || exit 1; done

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
