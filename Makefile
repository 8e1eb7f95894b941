# Two entry points (README "Quick start"): `make run` and `make test`. Both create the
# virtual environment on first use and reinstall only when pyproject.toml or setup.py changes.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test bench setup clean install-desktop

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The tests also need the test tools, the optional Ray extra (the sweep test runs a local
# Ray instance) and the TensorBoard extra (its converter's tests read the files back with
# TensorBoard's reader); the app does not.
$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,cluster,tensorboard]'
	touch $(TEST_STAMP)

run: $(STAMP)
	$(PY) main.py

test: $(TEST_STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q

# Linux: the app in this user's desktop menu (a .desktop entry and the icon); after a pip
# install the same is `sngan-gui install-desktop`.
install-desktop: $(STAMP)
	$(PY) -m sngan_gui install-desktop

bench: $(STAMP)
	$(PY) benchmarks/engine.py

clean:
	rm -rf $(VENV) .pytest_cache
