# The README's two commands, `make demo` and `make test`, do all their own set-up:
# a .venv with the package, its user extras and the developers' dependency groups (pyproject.toml),
# and a private AIRFLOW_HOME.
# Other Airflow versions (the matrix of `make test`, `make demo AIRFLOW_VERSION=2.11.2`) get a venv
# each, .venv-airflow-<version>/, built and cached by scripts/airflow_venvs.py.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEFAULT_AIRFLOW := 3.3.2
AIRFLOW_VERSION ?= $(DEFAULT_AIRFLOW)
OTHER_AIRFLOW := $(filter-out $(DEFAULT_AIRFLOW),$(AIRFLOW_VERSION))
export AIRFLOW_HOME ?= $(CURDIR)/.airflow_home$(if $(OTHER_AIRFLOW),-$(OTHER_AIRFLOW))
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__CORE__DAGS_FOLDER := $(CURDIR)/dags_examples
export AIRFLOW__CORE__UNIT_TEST_MODE := False

.PHONY: install test lint typecheck precommit pytest matrix demo bench bench-peers browser postgres redis wheel-check clean

MAIN_CONSTRAINTS := tests/constraints/airflow-$(DEFAULT_AIRFLOW).txt

# The install reads setup.cfg (dependencies, extras), pyproject.toml (build system, dependency
# groups) and the constraints: a change to any of them reinstalls. `--group` needs pip 25.1; the
# constraints apply to the groups' requirements as to the package's.
$(STAMP): setup.cfg pyproject.toml $(MAIN_CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip>=25.1'
	$(BIN)/python -m pip install --quiet -e '.[sandbox,openlineage,parquet]' --group dev -c $(MAIN_CONSTRAINTS)
	touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the connection-form browser test (nothing may download a browser here).
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "NOTE: chromium is not installed and this user cannot apt-get it: the browser test will skip (under CI=true it fails)"; \
	fi

# Debian's PostgreSQL server binaries for the SQL operator's Postgres tests. The tests run their own
# throwaway cluster (tests/transfers/conftest.py), so no service is started here.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 \
		|| { command -v initdb && command -v pg_ctl; } >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's postgresql for the SQL operator's Postgres tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	else \
		echo "NOTE: PostgreSQL is not installed and this user cannot apt-get it: the Postgres tests will skip (under CI=true they fail)"; \
	fi

# Debian's redis-server, the Celery broker of the CeleryExecutor deployment test (which starts its own
# server on a free port and stops it after).
redis:
	@if command -v redis-server >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's redis-server for the Celery deployment test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; \
	else \
		echo "NOTE: redis-server is not installed and this user cannot apt-get it: the Celery test will skip (under CI=true it fails)"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check airflow_provider_simplestore tests dags_examples benchmarks scripts
	$(BIN)/ruff format --check airflow_provider_simplestore tests dags_examples benchmarks scripts

typecheck: $(STAMP)
	$(BIN)/mypy

# The hooks of .pre-commit-config.yaml over every tracked file (not part of `make test`).
precommit: $(STAMP)
	$(BIN)/pre-commit run --all-files

pytest: $(STAMP) browser postgres redis
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The core of the suite on every other supported Airflow, each in its own venv and process.
matrix: $(STAMP) browser
	$(BIN)/python -m tests.airflow_matrix $(MATRIX_VERSIONS)

test: lint typecheck pytest matrix

demo: $(STAMP)
ifeq ($(OTHER_AIRFLOW),)
	$(BIN)/python scripts/demo.py
else
	$(BIN)/python scripts/airflow_venvs.py $(OTHER_AIRFLOW)
	.venv-airflow-$(OTHER_AIRFLOW)/bin/python scripts/demo.py
endif

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

# The provider beside dlt, HttpOperator and a plain requests loop. dlt gets a venv of its own
# (.venv-peers, pinned in benchmarks/peers/requirements.txt) so Airflow's pins stay untouched;
# `make test` never builds it (its smoke test runs the other candidates only).
PEERS_VENV := .venv-peers
PEERS_STAMP := $(PEERS_VENV)/.installed

$(PEERS_STAMP): benchmarks/peers/requirements.txt
	test -x $(PEERS_VENV)/bin/python || $(PYTHON) -m venv $(PEERS_VENV)
	$(PEERS_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(PEERS_VENV)/bin/python -m pip install --quiet -r benchmarks/peers/requirements.txt
	touch $(PEERS_STAMP)

bench-peers: $(STAMP) $(PEERS_STAMP)
	$(BIN)/python -m benchmarks.peers.run --dlt-python $(PEERS_VENV)/bin/python $(BENCH_ARGS)

# Builds the wheel and installs it into a clean venv, then asks Airflow there to discover it.
wheel-check: $(STAMP)
	$(BIN)/python -m pytest tests/test_packaging.py -k wheel

clean:
	rm -rf $(VENV) $(PEERS_VENV) .venv-airflow-* .airflow_home* build dist *.egg-info test-output
