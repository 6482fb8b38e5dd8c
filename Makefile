# Visify Story Studio Cloud — every target installs what it needs and is idempotent.
SHELL := /bin/bash
# uv does not compile bytecode as it installs (pip does), so where PYTHONDONTWRITEBYTECODE is
# set every process of the stack, the CLI and the tests compiled every module it imported, at
# every start. The venv and the project's folders are the project's own: their bytecode is
# cached as modules are first imported.
unexport PYTHONDONTWRITEBYTECODE
PY_SYS ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# What the stack and the demo need (the stack extra, requirements/stack.lock): no test or lint tools.
RUN_STAMP := $(VENV)/.installed-run
# Debian packages the pipeline shells out to (offline TTS, audio/video tools) and the edge
# renderer's fonts for the demo media's labels and burned-in Chinese subtitles.
DEB_PACKAGES := espeak-ng ffmpeg fonts-dejavu-core fonts-wqy-zenhei
# Only the tests: a headless Chromium (with its WebDriver) for the review page test.
DEB_TEST_PACKAGES := chromium chromium-driver
# Every Python package is installed from a lock file with hashes (requirements/*.lock, made
# by `make lock` from pyproject.toml and requirements/*.in): pip refuses anything else.
LOCKS := requirements
# checkov lives in its own venv: it requires bc-python-hcl2, which installs the same `hcl2`
# module as python-hcl2 (tests/infra) and would shadow it, and it pins packaging<24.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# `make lock` resolves with uv (in its own venv); the locks are for CPython 3.11 on Linux.
LOCK_VENV := .venv-lock
UV := $(LOCK_VENV)/bin/uv
UV_SPEC := uv==0.13.9
LOCK_FLAGS := --generate-hashes --python-version 3.11.7 --python-platform x86_64-unknown-linux-gnu --quiet
TF_DIR := infra/terraform
TFVARS ?= $(TF_DIR)/terraform.tfvars
BACKEND_CONFIG ?= $(TF_DIR)/backend.hcl
SOURCES_TFVARS := build/functions/sources.tfvars.json

.PHONY: setup deb deb-test up down status demo screenshots smoke test test-unit test-integration lint fmt schemas bench clean package deploy lock

# Everything: what `make test` and `make lint` need. `make up` and `make demo` need less.
setup: deb deb-test $(STAMP) $(CHECKOV_STAMP)

# Installs the Debian packages of $(1) that are missing.
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deb:
	$(call apt_install,$(DEB_PACKAGES))

deb-test:
	$(call apt_install,$(DEB_TEST_PACKAGES))

# pip_install(lock): pip, the build tools and uv (with pip), then with uv the lock's packages,
# the project itself (built with those tools, no download), then the Cloud Tasks emulator,
# which pins protobuf<5 and would break Firestore: without its dependencies. Every download is
# checked against its hash. uv installs into the venv it finds beside it (VIRTUAL_ENV).
# A new venv gets no pip of its own from ensurepip (about 4 s of a fresh clone's setup) where
# the system's pip can install into another environment (`--python`, pip 22.3 and later): that
# pip installs build.lock's pip into it. Elsewhere venv makes it with its own pip, as usual.
VENV_UV := VIRTUAL_ENV=$(VENV) $(VENV)/bin/uv
SYS_PIP_INTO := $(PY_SYS) -m pip --python
define pip_install
	@test -x $(PY) || { $(PY_SYS) -m venv --without-pip $(VENV) \
		&& $(SYS_PIP_INTO) $(PY) --version >/dev/null 2>&1; } \
		|| { rm -rf $(VENV) && $(PY_SYS) -m venv $(VENV); }
	@pip="$(PY) -m pip"; $$pip --version >/dev/null 2>&1 || pip="$(SYS_PIP_INTO) $(PY)"; \
		echo "$$pip install -q --require-hashes -r $(LOCKS)/build.lock"; \
		$$pip install -q --require-hashes -r $(LOCKS)/build.lock
	$(VENV_UV) pip install -q --require-hashes -r $(LOCKS)/$(1).lock
	$(VENV_UV) pip install -q --no-deps --no-build-isolation -e .
	$(VENV_UV) pip install -q --no-deps --require-hashes -r $(LOCKS)/tasks-emulator.lock
endef

$(STAMP): pyproject.toml $(LOCKS)/dev.lock $(LOCKS)/build.lock $(LOCKS)/tasks-emulator.lock
	$(call pip_install,dev)
	@touch $(STAMP) $(RUN_STAMP)

$(RUN_STAMP): pyproject.toml $(LOCKS)/stack.lock $(LOCKS)/build.lock $(LOCKS)/tasks-emulator.lock
	$(call pip_install,stack)
	@touch $(RUN_STAMP)

$(CHECKOV_STAMP): $(LOCKS)/checkov.lock $(LOCKS)/build.lock
	@test -x $(CHECKOV_VENV)/bin/python || $(PY_SYS) -m venv $(CHECKOV_VENV)
	@echo '*' > $(CHECKOV_VENV)/.gitignore
	$(CHECKOV_VENV)/bin/python -m pip install -q --require-hashes -r $(LOCKS)/build.lock
	$(CHECKOV_VENV)/bin/python -m pip install -q --require-hashes -r $(LOCKS)/checkov.lock
	@touch $(CHECKOV_STAMP)

# The lock files again after a change to pyproject.toml or requirements/*.in; pins that still
# fit are kept (UPGRADE=1 takes the newest that fit instead). stack.lock is held to dev.lock's
# versions, so `make up` runs what `make test` tested.
lock:
	@test -x $(UV) || ($(PY_SYS) -m venv $(LOCK_VENV) && echo '*' > $(LOCK_VENV)/.gitignore && $(LOCK_VENV)/bin/python -m pip install -q '$(UV_SPEC)')
	$(UV) pip compile pyproject.toml --extra dev $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) -o $(LOCKS)/dev.lock
	$(UV) pip compile pyproject.toml --extra stack $(LOCK_FLAGS) -c $(LOCKS)/dev.lock -o $(LOCKS)/stack.lock
	$(UV) pip compile $(LOCKS)/build.in $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) -o $(LOCKS)/build.lock
	$(UV) pip compile $(LOCKS)/tasks-emulator.in --no-deps $(LOCK_FLAGS) -o $(LOCKS)/tasks-emulator.lock
	$(UV) pip compile $(LOCKS)/checkov.in $(LOCK_FLAGS) $(if $(UPGRADE),--upgrade) -o $(LOCKS)/checkov.lock

up: deb $(RUN_STAMP)
	$(PY) emulators/stack.py up

down:
	@test -x $(PY) && $(PY) emulators/stack.py down || true

status:
	$(PY) emulators/stack.py status

# The whole job on the bundled sample, ending in build/demo/preview.mp4 (scripts/demo.py).
demo: up
	$(PY) scripts/demo.py

# The console's pictures in the README: its browser test, saving each main page.
screenshots: up
	VSS_SCREENSHOTS_DIR=$(CURDIR)/docs/console $(PY) -m pytest -q tests/e2e/test_console_browser.py

# `vss smoke` (the edge's whole workflow, every download checked) against the local stack; after
# a deployment run `vss smoke DATASET --api-url ... --instance-id ... --api-key ...` instead.
smoke: up
	$(PY) scripts/smoke.py

# The test stack speaks offline with espeak-ng alone: Kokoro is tested on its own
# (tests/integration/test_dubbing_audio.py), and is too slow for every e2e dubbing on 2 cores.
# Then the IAM permissions the functions' calls used during the run (each function process
# writes its ledger under .vss/ledger/) are checked against the Terraform grants.
LEDGER_DIR := $(or $(VSS_STATE_DIR),.vss)/ledger
test: setup lint
	rm -rf $(LEDGER_DIR)
	VSS_TTS_OFFLINE_ENGINES=espeak-ng $(MAKE) up
	$(PY) -m pytest -q -p no:cacheprovider tests --ignore=tests/permissions; rc=$$?; \
	if [ $$rc -eq 0 ]; then $(PY) -m pytest -q -p no:cacheprovider tests/permissions || rc=1; fi; \
	$(MAKE) down; exit $$rc

test-unit: setup
	$(PY) -m pytest -q tests/unit

test-integration: up
	$(PY) -m pytest -q tests/integration tests/e2e

lint: setup
	$(VENV)/bin/ruff check shared functions emulators tests scripts
	$(VENV)/bin/lint-imports --no-cache
	$(VENV)/bin/mypy
	$(PY) -m vss.schemas --check
	@command -v terraform >/dev/null || { echo "lint: terraform (>= 1.11) is not on PATH"; exit 1; }
	terraform fmt -check -recursive -diff $(TF_DIR)
	$(CHECKOV_VENV)/bin/checkov -d $(TF_DIR) --config-file $(TF_DIR)/.checkov.yaml
	$(PY) scripts/check_secrets.py
	$(PY) scripts/audit_dependencies.py $(if $(AUDIT_STRICT),--strict)

fmt: setup
	$(VENV)/bin/ruff format shared functions emulators tests
	$(VENV)/bin/ruff check --fix shared functions emulators tests

schemas: setup
	$(PY) -m vss.schemas

# The benchmarks that need the stack run first; the stack is then stopped, so those that need
# none (they measure one process, or ffmpeg, or a fresh clone) share the 2 cores with nothing
# idling beside them. tests.bench.demo times a fresh clone's `make demo` (demo.fresh_seconds)
# on its own stack, its ports moved. The load benchmark then runs on the espeak-ng stack.
bench: setup up
	$(PY) -m tests.bench.run
	$(PY) -m tests.bench.polling
	$(PY) -m tests.bench.run_cli
	$(PY) -m tests.bench.fan_out
	$(MAKE) down
	$(PY) -m tests.bench.narration
	$(PY) -m tests.bench.dubbing
	$(PY) -m tests.bench.voices --voices jm_kumo espeak-ng
	$(PY) -m tests.bench.render
	$(PY) -m tests.bench.editing
	$(PY) -m tests.bench.retrieval
	$(PY) -m tests.bench.demo --port-offset 1000 --quiet
	VSS_TTS_OFFLINE_ENGINES=espeak-ng $(MAKE) up
	$(PY) -m tests.bench.load

# One zip per function, named by content hash: its folder, the vss modules it imports and a
# requirements.txt of the pyproject.toml dependencies it imports (see scripts/package_functions.py).
package: $(STAMP)
	$(PY) scripts/package_functions.py --out build/functions

# terraform apply with the environment's tfvars and the archives just built; see README, Deploy.
# APPLY_FLAGS=-auto-approve for CI; TF_VAR_gemini_api_key=... to write the Gemini key.
deploy: package
	@command -v terraform >/dev/null || { echo "deploy: terraform (>= 1.11) is not on PATH"; exit 1; }
	@test -f $(TFVARS) || { echo "deploy: $(TFVARS) not found (copy $(TF_DIR)/terraform.tfvars.example, or pass TFVARS=...)"; exit 1; }
	@test -f $(BACKEND_CONFIG) || { echo "deploy: $(BACKEND_CONFIG) not found (copy $(TF_DIR)/backend.hcl.example, or pass BACKEND_CONFIG=...)"; exit 1; }
	terraform -chdir=$(TF_DIR) init -input=false -reconfigure -backend-config=$(abspath $(BACKEND_CONFIG))
	terraform -chdir=$(TF_DIR) apply -var-file=$(abspath $(TFVARS)) -var-file=$(abspath $(SOURCES_TFVARS)) $(APPLY_FLAGS)

clean: down
	rm -rf $(VENV) $(CHECKOV_VENV) .vss build dist
