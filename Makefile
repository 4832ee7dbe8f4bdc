# Two commands on a fresh machine: `make run` (sample data) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP_VERSION := 26.3
CONSTRAINTS := -c requirements.txt -c requirements/dev.txt
SPARK_CONSTRAINTS := $(CONSTRAINTS) -c requirements/spark.txt
export AIRFLOW__CORE__LOAD_EXAMPLES := False

# $(call debian,CHECK,PACKAGES): when the shell command CHECK fails, install the Debian PACKAGES
# (as root), or stop at once with the command that installs them.
define debian
	@$(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages: $(2)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(2) >/dev/null; \
	  else \
	    echo "missing Debian packages; run:  sudo apt-get install -y $(2)" >&2; exit 1; \
	  fi; }
endef

.PHONY: setup browser java spark run report test test-fast bench sample clean

$(VENV)/.installed: pyproject.toml requirements.txt requirements/dev.txt
	$(call debian,$(PYTHON) -c 'import ensurepip',$(notdir $(PYTHON))-venv)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet pip==$(PIP_VERSION)
	$(PY) -m pip install --quiet $(CONSTRAINTS) -e '.[dev]'
	touch $@

# The package (editable, with its console script `fulfilment-monitor`) and the test tools.
setup: $(VENV)/.installed

# Headless Chromium and its driver, for the tests that look at pages as a person would.
browser:
	$(call debian,command -v chromium && command -v chromedriver,chromium chromium-driver)

# The Spark engine's packages (pip install -e '.[spark]', pinned by requirements/spark.txt) and
# Java 17, which Spark runs on: the tests build every model on Spark too. `make run` needs neither.
$(VENV)/.spark: $(VENV)/.installed requirements/spark.txt
	$(PY) -m pip install --quiet $(SPARK_CONSTRAINTS) -e '.[dev,spark]'
	touch $@

spark: $(VENV)/.spark

java:
	$(call debian,java -version,openjdk-17-jre-headless)

run: setup
	$(VENV)/bin/fulfilment-monitor run
	$(VENV)/bin/fulfilment-monitor report --out data/reports

# Two workers (the machine's two cores), a module's tests on one worker so its fixtures (an
# Airflow, a launcher, a published database) start once, the slowest modules first so neither
# worker finishes alone; the session's shared data is made once per run (tests/conftest.py).
PYTEST := $(PY) -m pytest -n 2 --dist loadfile --durations=30

test: setup browser java spark
	$(PYTEST)

test-fast: setup
	$(PYTEST) -m "not slow"

bench: setup
	$(VENV)/bin/fulfilment-monitor bench

sample: setup
	rm -rf data/sample
	$(VENV)/bin/fulfilment-monitor generate --out data/sample --orders 400 --days 21 --seed 7

clean:
	rm -rf data/*.duckdb data/*.duckdb.* data/dbt data/reports data/outbox data/validation
