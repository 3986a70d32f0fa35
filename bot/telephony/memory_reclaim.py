"""Giving a call's memory back when it ends.

A call's Pipecat objects (processors, frames, tasks, queues) hold reference cycles, so they
are freed only by a full garbage collection, and CPython runs one rarely: they last long
enough to reach the oldest generation, which is collected only once it has grown by a
quarter. Tens of thousands of dead objects wait there meanwhile, and the memory they hold is
then kept by the allocators (CPython's object arenas and glibc's heap) instead of going back
to the OS. Measured after 200 calls in waves of 50: 56,000 dead objects, RSS +80 MB over
idle; a full collection and `malloc_trim(0)` brought it to +25 MB (bench/load.py --soak).

So a second after a call ends the server collects and trims: at once when no call is live
(no audio to delay), otherwise at most once per `MEMORY_RECLAIM_INTERVAL_S` (counted from
start-up), because a full
collection pauses the event loop (tens of ms; `gc.freeze()` at start-up keeps the objects
that live as long as the process out of every collection, so only calls' objects are walked).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import os
import time
from collections.abc import Callable

from loguru import logger
from pydantic import BaseModel, ConfigDict, Field

# A finished call's last tasks (its transport's readers, the pipeline's task manager) end a
# few loop turns after the call returns; a collection before that would not free the call.
SETTLE_S = 1.0
_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20 if hasattr(os, "sysconf") else 0.0


class MemoryReclaimConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    # While other calls are live, at most one reclaim per this many seconds; 0 turns it off.
    interval_s: float = Field(default=60.0, ge=0)


def rss_mb() -> float | None:
    """Resident memory of this process (Linux); None where /proc is not there."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE_MB
    except (OSError, ValueError, IndexError):
        return None


def _glibc_malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, which hands free heap pages back to the OS; None on other libcs."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None)
    except OSError:
        return None


class MemoryReclaimer:
    """One per server process: told when each call ends, decides when to collect and trim."""

    def __init__(
        self, config: MemoryReclaimConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self._clock = clock
        # The interval runs from start-up: a server that has just started has little to give
        # back, and a full collection then walks every call of its first burst mid-speech.
        self._last = clock()
        self._malloc_trim = _glibc_malloc_trim()
        self._scheduled: asyncio.TimerHandle | None = None
        self.reclaims = 0

    @property
    def enabled(self) -> bool:
        return self.config.interval_s > 0

    def freeze_startup_objects(self) -> None:
        """Everything alive now lives as long as the process: keep it out of collections."""
        if self.enabled:
            gc.collect()
            gc.freeze()

    def call_ended(self, live_calls: Callable[[], int]) -> None:
        """A call has ended: decide, once it has settled, whether a reclaim is due."""
        if not self.enabled or self._scheduled is not None:
            return
        self._scheduled = asyncio.get_running_loop().call_later(SETTLE_S, self._settled, live_calls)

    def _settled(self, live_calls: Callable[[], int]) -> None:
        self._scheduled = None
        self.reclaim_if_due(live_calls())

    def reclaim_if_due(self, live_calls: int) -> bool:
        """Reclaim now if no call is live or the interval has passed; True when it ran."""
        if not self.enabled:
            return False
        now = self._clock()
        due = now - self._last >= self.config.interval_s
        if live_calls > 0 and not due:
            return False
        self._last = now
        self.reclaim(live_calls)
        return True

    def reclaim(self, live_calls: int = 0) -> None:
        before, started = rss_mb(), time.perf_counter()
        freed = gc.collect()
        trimmed = self._malloc_trim(0) if self._malloc_trim is not None else 0
        after, took_ms = rss_mb(), (time.perf_counter() - started) * 1000
        self.reclaims += 1
        rss = f"RSS {before:.0f} -> {after:.0f} MB" if before and after else "RSS unknown"
        trim = "malloc_trim released pages" if trimmed else "no pages to release"
        logger.debug(
            f"memory reclaim: {freed} dead objects collected, {trim}, {rss}, "
            f"{took_ms:.0f} ms, {live_calls} live calls"
        )
