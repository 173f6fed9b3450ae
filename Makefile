# Two commands: `make run` (dashboard on http://localhost:8501) and `make test` (every test).
# Both create the venv, install pinned requirements, copy the offline map assets and build the
# default Gansu dataset when needed; running them again does no needless work.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test test-postgresql setup data assets chromium postgres fonts bench mutation clean-data help

help:
	@echo "make run    - start the dashboard on port $(PORT) (installs and builds what is missing)"
	@echo "make test   - the linter (ruff) and all tests, browser tests included (installs Debian chromium if missing)"
	@echo "make test-postgresql - the whole suite again with the store on PostgreSQL (make test runs the store's own tests on both)"
	@echo "make bench  - run the benchmarks in bench/"
	@echo "make mutation - mutation testing (mutmut) of the modules in setup.cfg; not part of make test"

$(STAMP): requirements.txt requirements-nodeps.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	@# the project itself, editable: the `gansu` console script (.venv/bin/gansu)
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

setup: $(STAMP) assets

# Leaflet + Leaflet.draw from pinned PyPI packages; Leaflet plugins from npm (`npm pack`, pinned
# version and sha512 integrity in ui/assets.py, tarball kept in static/vendor/.npm/). Without npm or
# the registry it says so and the dashboard runs without the side-by-side view.
assets: $(STAMP)
	$(PY) -m ui.assets

# Idempotent: the build compares a fingerprint of its inputs and returns at once when current.
data: setup
	$(PY) -m cli build
	$(PY) -m zonal.kernels

# Listens on 127.0.0.1 (this machine) unless ADDRESS=... is given, e.g. `make run ADDRESS=0.0.0.0` behind
# no proxy: then the store needs an admin account first (python -m cli admin accounts add NAME
# --role admin), or GANSU_SINGLE_USER=1 to serve everyone as admin on purpose (ui/exposure.py).
run: data fonts
	$(PY) -m ui.serve --server.port $(PORT) --server.headless true $(if $(ADDRESS),--server.address $(ADDRESS))

fonts:
	@# CJK fonts: Noto CJK for Chinese in the browser; WenQuanYi Zen Hei (TrueType) is embedded
	@# in the PDF reports (without it they fall back to reportlab's non-embedded STSong-Light).
	@if ! fc-list 2>/dev/null | grep -qi "noto.*cjk" || [ ! -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		($$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq fonts-noto-cjk fonts-wqy-zenhei) \
		|| echo "fonts not installed: PDF reports use the built-in STSong-Light font"; \
	fi

chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
		echo "Installing Debian chromium (browser tests)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	fi

# PostgreSQL 15 + PostGIS 3 from Debian, for the tests of the PostgreSQL store (each test process starts
# a throw-away cluster on a Unix socket in /tmp: storage/pgcluster.py); no server is left running.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || ! ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1; then \
		echo "Installing Debian postgresql-15 and postgresql-15-postgis-3 (tests of the PostgreSQL store)"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql-15 postgresql-15-postgis-3; \
	fi

# Two pytest workers (pytest-xdist), a test file whole to one worker (its module fixtures, e.g. a
# browser walk, run once); tests/conftest.py hands out the long files first. TEST_JOBS=1 runs serially.
TEST_JOBS ?= 2
test: data chromium postgres fonts
	$(VENV)/bin/ruff check --quiet .
	$(PY) -m pytest -q $(if $(filter-out 1,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile) tests

# The whole suite with the session's store (pages, CLI, browsers, the ``store`` fixture) on PostgreSQL
# instead of DuckDB (tests/conftest.py: GANSU_TEST_SESSION_STORE). `make test` already runs the store's
# own tests on both back ends; this runs every other test on PostgreSQL too (~14 min on 2 cores).
test-postgresql: data chromium postgres fonts
	GANSU_TEST_SESSION_STORE=postgresql $(PY) -m pytest -q $(if $(filter-out 1,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadfile) tests

bench: data
	$(PY) -m bench

# Mutation testing (docs/mutation.md): mutmut in a venv of its own layered over the project's (a
# .pth file), so `make test` never sees it; installed on first use. mutmut copies the code into
# mutants/ and never changes the working copy. MUTANTS='storage.store.*' runs a subset;
# MUTATION_JOBS (default 1) the parallel children. `mutmut results` / `mutmut show NAME` afterwards.
MUTVENV := .venv-mutation
MUTMUT_VERSION := 3.8.1
MUTATION_JOBS ?= 1
GANSU_SHARED_GEODATA ?= $(abspath ..)/shared/geodata

$(MUTVENV)/.installed: $(STAMP)
	@test -x $(MUTVENV)/bin/python || $(PYTHON) -m venv $(MUTVENV)
	$(MUTVENV)/bin/python -m pip install --quiet mutmut==$(MUTMUT_VERSION)
	$(PY) -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" > \
		"$$($(MUTVENV)/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/gansu-project.pth"
	@touch $@

mutation: data $(MUTVENV)/.installed
	GANSU_SHARED_GEODATA=$(GANSU_SHARED_GEODATA) $(MUTVENV)/bin/mutmut run --max-children $(MUTATION_JOBS) $(MUTANTS)
	$(MUTVENV)/bin/mutmut results

clean-data:
	rm -rf data/builds data/current
