# Inferlane — every target creates .venv on its own and installs what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test check bench lock sysdeps clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

# System packages tests and benchmarks need (Debian; run as root). Skipped when present.
sysdeps:
	@bash scripts/sysdeps.sh test

demo: $(STAMP)
	$(VENV)/bin/inferlane demo

test: $(STAMP) sysdeps
	$(PY) -m pytest -q -p no:cacheprovider $(PYTEST_ARGS)

check: $(STAMP)
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy --strict src

bench: $(STAMP)
	@bash scripts/sysdeps.sh bench
	@bash bench/setup.sh
	$(PY) -m bench.run_all $(BENCH_ARGS)

lock: $(STAMP)
	{ echo "# Pinned versions for make test/check/demo (regenerate: make lock)"; \
	  $(PY) -m pip freeze --exclude-editable | grep -v '^inferlane'; } > requirements.lock

clean:
	rm -rf $(VENV) .work .pytest_cache .mypy_cache .ruff_cache
