# Every target runs inside .venv, created by `make install` (idempotent).
SHELL := /bin/bash
# uv on PATH if there is one; otherwise the one `make install` puts into python3's packages.
UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := python3 -m uv
endif
PY := .venv/bin/python
ARGS ?=

.PHONY: install run test test-fast test-peers lint format bench bench-group bench-echo call

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
# The tiers run in TEST_WORKERS processes (pytest-xdist; 3 on the 2-core CI machine): most of
# a test's time is a call's real-time audio, not CPU, so three overlap well (load stays under
# two cores) and the suite takes about a third of its serial time. --dist loadgroup hands out
# test by test; no test needs the machine to itself: each starts its servers on its own ports
# (port 0, or sim.bot_process.free_port, which gives each worker its own block), writes
# under its own tmp_path and patches only its own process. A test that must share a worker
# with others would carry @pytest.mark.xdist_group(name) (none does). TEST_WORKERS=0: serial.
TEST_WORKERS ?= 3
PYTEST := $(PY) -m pytest -q -rfER --durations=15 -n $(TEST_WORKERS) --dist loadgroup

# Every tier, then the peer clients.
test: lint
	$(PYTEST) $(PEER_ELSEWHERE)
	$(MAKE) --no-print-directory test-peers

# Unit and in-process tiers: no child processes.
test-fast: lint
	$(PYTEST) -m "not e2e" $(PEER_ELSEWHERE)

# Peer clients drive the Realtime emulator from their own environments, one per dependency
# group of tests/peers/pyproject.toml (their pins clash with the bot's lock): the `openai`
# SDK, openai-agents, livekit-plugins-openai. Each gets the emulator as others install it
# (the sim/ package) and none of the bot. An environment that cannot be installed leaves
# its tests to skip, saying so, in .venv. (tests/peers/test_pipecat.py runs in .venv.)
PEERS := openai agents livekit
PEER_ELSEWHERE := $(foreach p,$(PEERS),--ignore=tests/peers/test_$(p).py)
# The peers' environments hold the sim package built from the work tree: rebuilt when it changes.
PEER_LOCK := tests/peers/pyproject.toml tests/peers/uv.lock sim/pyproject.toml \
	$(shell find sim -name '*.py' -o -name '*.json' -o -name '*.wav' 2>/dev/null)

.venv-peers/%/.installed: $(PEER_LOCK)
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@if UV_PROJECT_ENVIRONMENT=$(CURDIR)/.venv-peers/$* $(UV) sync --quiet --project tests/peers \
		--frozen --only-group $* --reinstall-package realtime-voice-bot-sim; then touch $@; \
	else echo "peer group '$*' could not be installed: its tests will be skipped"; fi

test-peers: install $(foreach p,$(PEERS),.venv-peers/$(p)/.installed)
	@for p in $(PEERS); do \
		py=.venv-peers/$$p/bin/python; [ -f .venv-peers/$$p/.installed ] || py=$(PY); \
		echo "== peer $$p ($$py)"; \
		$$py -m pytest -q -rfEs -p no:cacheprovider tests/peers/test_$$p.py || exit 1; \
	done

bench: install bench-group
	$(PY) -m bench $(ARGS)

# The `bench` dependency group (the echo bench's peer, WebRTC AEC3, built from source in a
# few minutes; matplotlib for its chart): not in `make install`, so `make test` never builds
# it. --inexact keeps it beside the default groups; if it cannot be installed the echo bench
# runs without its peer and says why.
bench-group: install
	@$(UV) sync --frozen --inexact --group bench || \
		echo "bench group could not be installed: the echo bench runs without its peer"

# Echo-gate quality on the project's scenario set, rebuilt deterministically for two seeds:
# 48 main + 24 late-echo + 16 of each family in sim/echo/families.py; the JSON reports go
# to bench/results/, the chart per family to docs/echo_gate_families.png.
ECHO_SEEDS ?= 7 11
bench-echo: bench-group
	@mkdir -p bench/results
	@for seed in $(ECHO_SEEDS); do \
		$(PY) -m bench.echo --build --seed $$seed --out bench/results/echo_seed$$seed.json \
			$(ARGS) > /dev/null || exit 1; \
		$(PY) -m bench.echo_summary bench/results/echo_seed$$seed.json; \
	done
	-$(PY) -m bench.echo_plot docs/echo_gate_families.png \
		$(foreach s,$(ECHO_SEEDS),bench/results/echo_seed$(s).json)
