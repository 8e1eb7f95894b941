# Two entry points (README "Quick start"): `make run` and `make test`. Both create the
# virtual environment on first use and reinstall only when pyproject.toml changes.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test bench setup clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The tests also need the test tools and the optional Ray extra (the sweep test runs a local
# Ray instance); the app does not.
$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,cluster]'
	touch $(TEST_STAMP)

run: $(STAMP)
	$(PY) main.py

test: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

bench: $(STAMP)
	$(PY) benchmarks/engine.py

clean:
	rm -rf $(VENV) .pytest_cache
