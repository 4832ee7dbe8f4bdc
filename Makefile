# Two commands on a fresh machine: `make run` (sample data) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: setup run report test test-fast bench sample clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

setup: $(VENV)/.installed

run: setup
	$(PY) -m fulfilment_monitor run
	$(PY) -m fulfilment_monitor report --out data/reports

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not slow"

bench: setup
	$(PY) -m fulfilment_monitor bench

sample: setup
	rm -rf data/sample
	$(PY) -m fulfilment_monitor generate --out data/sample --orders 400 --days 21 --seed 7

clean:
	rm -rf data/*.duckdb data/*.duckdb.* data/dbt data/reports data/outbox data/validation
