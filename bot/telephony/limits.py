"""Per-process and per-call limits: concurrent calls, call duration, line idleness.

A call that hits a limit ends like any other, with the limit named in its record's
`end_reason`; a call refused at the door gets a 1013 "try again later" close and a log line.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from pydantic import BaseModel, ConfigDict, Field

from bot.config.settings import Settings


class CallLimits(BaseModel):
    model_config = ConfigDict(frozen=True)

    max_concurrent_calls: int = Field(ge=1)
    max_call_duration_s: float = Field(gt=0)
    idle_timeout_s: float = Field(gt=0)

    @classmethod
    def from_settings(cls, settings: Settings) -> "CallLimits":
        return cls(
            max_concurrent_calls=settings.max_concurrent_calls,
            max_call_duration_s=settings.max_call_duration_s,
            idle_timeout_s=settings.idle_timeout_s,
        )

    def for_profile(self, max_call_minutes: float) -> "CallLimits":
        """A profile's `max_call_minutes` (0 = none) overrides MAX_CALL_DURATION_S."""
        if max_call_minutes <= 0:
            return self
        return self.model_copy(update={"max_call_duration_s": max_call_minutes * 60})


class CallSlots:
    """Counts calls from the WebSocket accept on, so a flood of silent handshakes counts too."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.in_use = 0

    @contextmanager
    def claim(self) -> Iterator[bool]:
        """Yields False (and claims nothing) when every slot is taken."""
        if self.in_use >= self.capacity:
            yield False
            return
        self.in_use += 1
        try:
            yield True
        finally:
            self.in_use -= 1


async def enforce_call_limits(
    end_call: Callable[[str], Awaitable[None]],
    quiet_since: Callable[[], float | None],
    limits: CallLimits,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Ends the call (via ``end_call(reason)``) at the first limit it crosses; runs until then
    or until cancelled with the call. ``quiet_since`` is when the line last sent media (None
    until the call's pipeline is up: the idle clock starts then)."""
    started = clock()
    # Fine enough for limits measured in seconds, cheap enough for hundreds of calls.
    interval = min(1.0, limits.idle_timeout_s / 4, limits.max_call_duration_s / 4)
    while True:
        await asyncio.sleep(interval)
        now = clock()
        if now - started >= limits.max_call_duration_s:
            await end_call(f"max call duration reached ({limits.max_call_duration_s:g} s)")
            return
        quiet = quiet_since()
        if quiet is not None and now - quiet >= limits.idle_timeout_s:
            await end_call(f"idle timeout: no media for {limits.idle_timeout_s:g} s")
            return
