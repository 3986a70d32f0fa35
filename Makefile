# Every target runs inside .venv, created by `make install` (idempotent).
SHELL := /bin/bash
# uv on PATH if there is one; otherwise the one `make install` puts into python3's packages.
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
PY := .venv/bin/python
ARGS ?=

.PHONY: install run test test-fast lint format bench bench-echo call

install: .venv/.installed

.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	$(UV) sync --frozen
	@touch $@

run: install
	$(PY) runner.py --transport twilio $(ARGS)

call: install
	$(PY) -m sim.phone --url ws://127.0.0.1:8765/ws --say sim/audio/caller_order_status.wav --silence 3 --record bot_reply.wav

lint: install
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: install
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# Three tiers: tests/unit, tests/inprocess, tests/e2e (marked `e2e`). No test is rerun except
# the ones carrying a `flaky` marker (its reason beside it). The summary names each failure,
# error and rerun (-rfER: "RERUN test_x"), and --durations the slowest tests.
PYTEST := $(PY) -m pytest -q -rfER --durations=15

# Every tier.
test: lint
	$(PYTEST)

# Unit and in-process tiers: no child processes.
test-fast: lint
	$(PYTEST) -m "not e2e"

bench: install
	$(PY) -m bench $(ARGS)

# Echo-gate quality on the project's scenario set (48, seed 7; rebuilt deterministically).
bench-echo: install
	$(PY) -m bench.echo --build $(ARGS)
