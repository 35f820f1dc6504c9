# Two commands: `make run` and `make test`. Both create .venv and install pinned versions first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

# Prefect keeps its state inside the project (git-ignored), migrated once during set-up, with a
# generous start-up timeout: a fresh temporary server otherwise fails first runs on this machine.
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 90
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_LEVEL ?= WARNING
export UV_PYTHON_DOWNLOADS := never

SOURCES ?= sources.yaml
OUT ?= data

.PHONY: run test check lint typecheck pytest install install-runtime lock docs samples reference clean serve server deploy worker browser bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Two pinned locks from one command (`make lock`): requirements-runtime.lock, what a run needs, and
# requirements.lock, the same versions plus the development tools. `make run` installs the first,
# `make test` and `make check` the second (a superset, so a run works after either).
define setup
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	# Bytecode compiled at install: this machine sets PYTHONDONTWRITEBYTECODE, so without it every
	# process compiles pandas, Prefect & co. from source again (about 9 s of each start).
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python $(1)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	mkdir -p $(PREFECT_HOME)
	$(BIN)/prefect server database upgrade -y > /dev/null
endef

$(VENV)/.runtime: $(BIN)/python pyproject.toml requirements-runtime.lock
	$(call setup,requirements-runtime.lock)
	rm -f $(VENV)/.dev  # the sync removed the development tools
	touch $@

$(VENV)/.dev: $(BIN)/python pyproject.toml requirements.lock
	$(call setup,requirements.lock)
	touch $@ $(VENV)/.runtime

install-runtime: $(VENV)/.runtime

install: $(VENV)/.dev

run: install-runtime
	$(BIN)/aggregator run --sources $(SOURCES) --out $(OUT)

# The nightly deployment (cron and time zone from run.schedule in sources.yaml), served against a
# real Prefect server: the one PREFECT_API_URL names, else one started on 127.0.0.1:4200.
serve: install-runtime
	scripts/serve.sh $(SOURCES) $(OUT)

# A Prefect server alone (UI on http://127.0.0.1:4200), for work-pool deployments (prefect.yaml).
server: install-runtime
	$(BIN)/prefect server start --host 127.0.0.1 --port 4200

# The work-pool deployment "nightly/nightly-pool" of prefect.yaml, with this checkout's absolute
# paths, on the server PREFECT_API_URL names (`make server` starts one); `make worker` runs it.
deploy: install-runtime
	@test -n "$$PREFECT_API_URL" || { echo "PREFECT_API_URL is not set (e.g. http://127.0.0.1:4200/api; make server starts one)" >&2; exit 2; }
	$(BIN)/prefect work-pool inspect aggregator > /dev/null 2>&1 || $(BIN)/prefect work-pool create aggregator --type process
	AGGREGATOR_HOME=$(CURDIR) $(BIN)/prefect --no-prompt deploy --all

worker: install-runtime
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/prefect worker start --pool aggregator

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# Debian's Chromium and ChromeDriver, for the test that renders report.html in a real browser.
browser:
	@command -v chromedriver > /dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then APT=""; else APT="sudo -n"; fi; \
	  $$APT apt-get update -qq > /dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$APT apt-get install -y -qq chromium chromium-driver > /dev/null; }

pytest: install browser
	$(BIN)/pytest -q

test: lint typecheck pytest

# The fast lane: lint, types and every test not marked slow or prefect, on both cores (under two
# minutes here); `make test` runs everything.
check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -q -n 2 -m "not slow and not prefect"

# Benchmarks (minutes; figures go to docs/benchmarks.md): geography, deduplication, fetching 500
# sources, then every speed target with its floor (bench/targets.py writes its table into the docs).
bench: install
	$(BIN)/python bench/geo_bench.py 1000000
	$(BIN)/python bench/dedupe_bench.py 60000 600000 --fixed-density
	$(BIN)/python bench/fetch_bench.py
	$(BIN)/python bench/parsers_bench.py
	$(BIN)/python bench/targets.py --docs

docs: install
	$(BIN)/aggregator docs

samples: install
	$(BIN)/python scripts/make_samples.py

# Needs ../shared/data/reference (see scripts/build_reference.py).
reference: install
	$(BIN)/python scripts/build_reference.py

# Regenerate the pinned versions after changing pyproject.toml: the development lock (existing pins
# kept where they still fit), then the runtime lock constrained to the same versions.
lock: install
	$(BIN)/uv pip compile --quiet --python-version 3.11 --extra dev pyproject.toml -o requirements.lock
	$(BIN)/uv pip compile --quiet --python-version 3.11 pyproject.toml -c requirements.lock -o requirements-runtime.lock

clean:
	rm -rf $(VENV) .prefect .mypy_cache .ruff_cache .pytest_cache
