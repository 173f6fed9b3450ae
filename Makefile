# Two commands: `make run` (dashboard on http://localhost:8501) and `make test` (every test).
# Both create the venv, install pinned requirements, copy the offline map assets and build the
# default Gansu dataset when needed; running them again does no needless work.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test setup data assets chromium fonts bench clean-data help

help:
	@echo "make run    - start the dashboard on port $(PORT) (installs and builds what is missing)"
	@echo "make test   - run all tests, browser tests included (installs Debian chromium if missing)"
	@echo "make bench  - run the benchmarks in bench/"

$(STAMP): requirements.txt requirements-nodeps.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -r requirements-nodeps.txt
	@touch $(STAMP)

setup: $(STAMP) assets

# Leaflet + Leaflet.draw from pinned PyPI packages; Leaflet plugins from npm (`npm pack`, pinned
# version and sha512 integrity in ui/assets.py, tarball kept in static/vendor/.npm/). Without npm or
# the registry it says so and the dashboard runs without the side-by-side view.
assets: $(STAMP)
	$(PY) -m ui.assets

# Idempotent: the build compares a fingerprint of its inputs and returns at once when current.
data: setup
	$(PY) -m geodata.build
	$(PY) -m indicators.kernels

# Listens on 127.0.0.1 (this machine) unless ADDRESS=... is given, e.g. `make run ADDRESS=0.0.0.0` behind
# no proxy: then the store needs an admin account first (python -m geodata.admin accounts add NAME
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

test: data chromium fonts
	$(PY) -m pytest -q tests

bench: data
	$(PY) -m bench

clean-data:
	rm -rf data/builds data/current
