"""First-audio watchdog: a turn that gets no bot audio in time is retried once, then the
bot says the profile's fallback line instead of leaving the caller in silence."""

import asyncio
from collections.abc import Awaitable, Callable
from enum import IntEnum


class Attempt(IntEnum):
    ORIGINAL = 0
    RETRY = 1
    FALLBACK = 2


class FirstAudioWatch:
    """One timer per turn. ``on_timeout(attempt)`` is awaited when it expires."""

    def __init__(
        self,
        timeout_s: float,
        on_timeout: Callable[[Attempt], Awaitable[None]],
        create_task: Callable[..., asyncio.Task],
    ):
        self._timeout_s = timeout_s
        self._on_timeout = on_timeout
        self._create_task = create_task
        self._task: asyncio.Task | None = None
        self.attempt = Attempt.ORIGINAL

    @property
    def waiting(self) -> bool:
        """A reply is owed and no audio has come yet."""
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self.waiting or self.attempt is Attempt.FALLBACK:
            return
        self._task = self._create_task(self._expire())

    def escalate(self, attempt: Attempt) -> None:
        self.attempt = attempt

    def heard(self) -> None:
        """Audio arrived: the turn is answered."""
        self.stop()
        self.attempt = Attempt.ORIGINAL

    def stop(self) -> None:
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self._task = None

    async def _expire(self) -> None:
        await asyncio.sleep(self._timeout_s)
        self._task = None
        await self._on_timeout(self.attempt)
