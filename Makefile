# Every target installs what it needs into a local virtualenv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow bench clean

$(STAMP): requirements.txt setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)  ## main job on built-in synthetic data
	$(VENV)/bin/art-medical demo --out runs/demo

test: $(STAMP)  ## fast test suite
	$(PY) -m pytest -q

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow

bench: $(STAMP)  ## speed and memory benchmarks, small sizes
	$(PY) benchmarks/uap_speed.py --quick
	$(PY) benchmarks/batched_uap.py --quick
	$(PY) benchmarks/art_gradients.py --quick
	$(PY) benchmarks/train_speed.py --quick
	$(PY) benchmarks/data_loading.py --quick
	$(PY) benchmarks/fgsm_sweep.py --quick
	$(PY) benchmarks/cw_to_art.py --quick

clean:
	rm -rf $(VENV) runs
