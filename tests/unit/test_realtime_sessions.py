"""MAX_REALTIME_SESSIONS across processes: one flock per slot, freed when the holder closes
it or dies; and the latest rate_limits.updated kept per name."""

import subprocess
import sys
import time

from bot.telephony.realtime_sessions import RealtimeSessionSlots
from pipelines.realtime.stats import RealtimeHealth, track_rate_limits

HOLD_ONE = """
import sys, time
from pathlib import Path
from bot.telephony.realtime_sessions import RealtimeSessionSlots
with RealtimeSessionSlots(Path(sys.argv[1]), 2).claim() as claimed:
    print("held" if claimed else "none", flush=True)
    time.sleep(60)
"""


def test_slots_are_shared_by_processes_and_freed_when_one_dies(tmp_path):
    slots = RealtimeSessionSlots(tmp_path, 2)
    worker = subprocess.Popen(
        [sys.executable, "-c", HOLD_ONE, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout and worker.stdout.readline().strip() == "held"
        with slots.claim() as first:
            assert first
            with slots.claim() as second:
                assert not second, "the other process holds the other slot"
            assert not slots.available()
    finally:
        worker.kill()
        worker.wait()
    deadline = time.monotonic() + 5
    while not slots.available() and time.monotonic() < deadline:
        time.sleep(0.05)
    with slots.claim() as a, slots.claim() as b:
        assert a and b, "a killed worker's slot is free again"


def test_latest_rate_limits_by_name():
    health = RealtimeHealth()
    track_rate_limits(health, [{"name": "requests", "limit": 1000, "remaining": 999}])
    track_rate_limits(
        health,
        [
            {"name": "requests", "limit": 1000, "remaining": 998, "reset_seconds": 60},
            {"name": "tokens", "limit": 40000, "remaining": 39000},
            {"limit": 1},
        ],
    )
    assert health.rate_limits["requests"].remaining == 998
    assert health.rate_limits["tokens"].limit == 40000
    assert set(health.rate_limits) == {"requests", "tokens"}
