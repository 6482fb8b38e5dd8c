# Visify Story Studio Cloud — every target installs what it needs and is idempotent.
SHELL := /bin/bash
PY_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEB_PACKAGES := espeak-ng ffmpeg

.PHONY: setup deb up down status demo test test-unit test-integration lint fmt schemas bench clean

setup: deb $(STAMP)

# Debian packages the pipeline shells out to (offline TTS, audio/video tools).
deb:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PY_SYS) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@# The Cloud Tasks emulator pins protobuf<5, which would break Firestore: no deps.
	$(PY) -m pip install -q --no-deps 'gcloud-tasks-emulator>=0.6,<0.7'
	@touch $(STAMP)

up: setup
	$(PY) emulators/stack.py up

down:
	@test -x $(PY) && $(PY) emulators/stack.py down || true

status:
	$(PY) emulators/stack.py status

demo: up
	$(PY) -m vss.demo

test: setup lint
	$(MAKE) up
	$(PY) -m pytest -q -p no:cacheprovider tests; rc=$$?; $(MAKE) down; exit $$rc

test-unit: setup
	$(PY) -m pytest -q tests/unit

test-integration: up
	$(PY) -m pytest -q tests/integration tests/e2e

lint: setup
	$(VENV)/bin/ruff check shared functions emulators tests
	$(PY) -m vss.schemas --check

fmt: setup
	$(VENV)/bin/ruff format shared functions emulators tests
	$(VENV)/bin/ruff check --fix shared functions emulators tests

schemas: setup
	$(PY) -m vss.schemas

bench: up
	$(PY) -m tests.bench.run

clean: down
	rm -rf $(VENV) .vss build dist
