"""When the server gives memory back after a call ends: at once when no call is live, at
most once per interval while others go on, never with the interval at 0. A fake clock, and
the reclaim itself recorded instead of run."""

import pytest

from bot.telephony.memory_reclaim import MemoryReclaimConfig, MemoryReclaimer


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def reclaimer(monkeypatch) -> tuple[MemoryReclaimer, Clock, list[int]]:
    clock, runs = Clock(), []
    reclaimer = MemoryReclaimer(MemoryReclaimConfig(interval_s=30), clock=clock)
    monkeypatch.setattr(reclaimer, "reclaim", lambda live_calls=0: runs.append(live_calls))
    return reclaimer, clock, runs


def test_busy_server_reclaims_at_most_once_per_interval(reclaimer):
    """Each reclaim pauses every live call's audio for a moment: under load it is rationed."""
    reclaimer, clock, runs = reclaimer
    clock.now += 30  # the first interval runs from start-up
    for _ in range(10):  # ten calls end within a few seconds while others go on
        reclaimer.reclaim_if_due(live_calls=20)
        clock.now += 0.5
    assert runs == [20]
    clock.now += 30
    reclaimer.reclaim_if_due(live_calls=19)
    assert runs == [20, 19]


def test_the_first_burst_of_calls_is_not_paused_by_a_reclaim(reclaimer):
    """Just started, the server has little to give back: while calls are live it waits a full
    interval from start-up."""
    reclaimer, clock, runs = reclaimer
    clock.now += 5
    reclaimer.reclaim_if_due(live_calls=99)
    assert runs == []
    clock.now += 25
    reclaimer.reclaim_if_due(live_calls=99)
    assert runs == [99]


def test_the_last_call_ending_always_reclaims(reclaimer):
    """Nobody is on the line to hear a pause, so an idle server gives its memory back now."""
    reclaimer, clock, runs = reclaimer
    clock.now += 30
    reclaimer.reclaim_if_due(live_calls=5)
    clock.now += 1
    reclaimer.reclaim_if_due(live_calls=0)
    clock.now += 1
    reclaimer.reclaim_if_due(live_calls=0)
    assert runs == [5, 0, 0]


def test_interval_zero_turns_it_off():
    reclaimer = MemoryReclaimer(MemoryReclaimConfig(interval_s=0))
    assert not reclaimer.reclaim_if_due(live_calls=0)
    assert reclaimer.reclaims == 0
