"""A reply refused by the account's rate limit, after the session is open.

The API reports it as a ``response.done`` with ``status: failed`` and a rate-limit error in
``status_details`` (or as an ``error`` event answering the ``response.create``). Asking the
model for its fallback line would only be refused again, so such a reply has the session
opener's rate-limit plan (``session_opener.rate_limit_retry_in``): retried after the
server's hint, else with backoff, while the next try starts within the window of the first
refusal; then the call is told to give up, and plays its recorded fallback line itself
(docs/operations.md). A reply that is heard starts the count afresh.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from loguru import logger

from bot.config.realtime import ReconnectPolicy
from pipelines.realtime.errors import Verdict
from pipelines.realtime.session_opener import rate_limit_retry_in


class ReplyRateLimit:
    """The plan for one call's refused replies. ``retry()`` asks for the reply again;
    ``give_up(cause)`` is awaited once, when the window cannot hold another try."""

    def __init__(
        self,
        policy: ReconnectPolicy,
        window_s: float,
        *,
        tag: str,
        retry: Callable[[], Awaitable[None]],
        give_up: Callable[[str], Awaitable[None]],
        create_task: Callable[[Coroutine[Any, Any, None]], asyncio.Task],
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._policy = policy
        self._window_s = window_s
        self._tag = tag
        self._retry = retry
        self._give_up = give_up
        self._create_task = create_task
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._first_refused_at: float | None = None
        self._refusals = 0
        self._pending: asyncio.Task | None = None
        self.gave_up = False

    @property
    def waiting(self) -> bool:
        """A refused reply is due again: a reply is owed."""
        return self._pending is not None and not self._pending.done()

    async def refused(self, verdict: Verdict) -> None:
        """A reply was refused for the rate limit: try again later, or give up."""
        if self.gave_up:
            return
        now = self._clock()
        if self._first_refused_at is None:
            self._first_refused_at = now
        self._refusals += 1
        delay = rate_limit_retry_in(
            self._policy,
            self._refusals,
            verdict,
            elapsed_s=now - self._first_refused_at,
            window_s=self._window_s,
            rng=self._rng,
        )
        if delay is None:
            self.gave_up = True
            self.cancel()
            tries = f"{self._refusals} attempt" + ("s" if self._refusals > 1 else "")
            cause = f"rate limited: no reply within {self._window_s:g}s ({tries}): {verdict.cause}"
            logger.warning(f"{self._tag}Realtime {cause}")
            await self._give_up(cause)
            return
        logger.warning(
            f"{self._tag}Realtime reply refused ({verdict.cause}); "
            f"asking again in {delay:.2f}s (refusal {self._refusals})"
        )
        self.cancel()
        self._pending = self._create_task(self._retry_after(delay))

    def answered(self) -> None:
        """A reply got through: a later refusal starts a new window."""
        self._first_refused_at = None
        self._refusals = 0

    def cancel(self) -> None:
        """No retry is wanted (another reply started, the session went, the call ends)."""
        if self._pending is not None and self._pending is not asyncio.current_task():
            self._pending.cancel()
        self._pending = None

    async def _retry_after(self, delay: float) -> None:
        await self._sleep(delay)
        self._pending = None
        await self._retry()
