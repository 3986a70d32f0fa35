"""Rollover: move a call to a fresh Realtime session before the server's cap ends the old one.

The next session is opened ahead of ``expires_at`` (``RolloverPolicy.lead_s``, at most half
the session's life), so the switch costs only the replay, not a connect. The switch waits
for a moment when neither side is talking and no reply or tool result is owed: a switch
then loses nothing the caller would notice. If no such moment comes before the cap, the
server ends the session and the reconnect path takes over.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from loguru import logger
from pipecat.services.openai.realtime import events

from bot.config.realtime import RolloverPolicy
from pipelines.realtime.errors import RealtimeFailure
from pipelines.realtime.session_opener import ReadySession
from pipelines.realtime.stats import RealtimeHealth, RolloverEntry

QUIET_POLL_S = 0.05


class Rollover:
    """One call's rollover timer, its standby session and the talk clock the switch waits on.

    The service tells it when a session starts (``session_opened``, then ``schedule``) and
    hands it server events and the bot's speaking frames. It calls back ``open_session``
    for the standby, ``settled`` for the service's half of a quiet moment (nothing sent,
    running or owed), and ``switch_to`` to make the standby live (returns items replayed).
    """

    def __init__(
        self,
        policy: RolloverPolicy,
        *,
        stats: RealtimeHealth,
        tag: str,
        open_session: Callable[[], Awaitable[ReadySession]],
        settled: Callable[[], bool],
        switch_to: Callable[[ReadySession], Awaitable[int]],
        create_task: Callable[[Coroutine[Any, Any, None]], asyncio.Task],
    ) -> None:
        self._policy = policy
        self._stats = stats
        self._tag = tag
        self._open_session = open_session
        self._settled = settled
        self._switch_to = switch_to
        self._create_task = create_task
        self._expires_at: float | None = None  # epoch seconds, the live session's cap
        self._session_started = time.monotonic()
        self._task: asyncio.Task | None = None
        self._standby: ReadySession | None = None
        self._caller_speaking = False
        self._bot_speaking = False
        self._last_activity = time.monotonic()

    # ------------------------------------------------------------ who is talking
    def observe(self, evt: events.ServerEvent) -> None:
        """Server VAD says when the caller talks."""
        if evt.type == "input_audio_buffer.speech_started":
            self._caller_speaking = True
        elif evt.type == "input_audio_buffer.speech_stopped":
            self._caller_speaking = False
            self._last_activity = time.monotonic()

    def bot_started(self) -> None:
        self._bot_speaking = True

    def bot_stopped(self) -> None:
        self._bot_speaking = False
        self._last_activity = time.monotonic()

    # ------------------------------------------------------------ the timer
    def session_opened(self, expires_at: float | None) -> None:
        self._expires_at = expires_at
        self._session_started = time.monotonic()

    def schedule(self) -> None:
        if not self._policy.enabled or self._expires_at is None:
            return
        if self._task is not None and self._task is not asyncio.current_task():
            self._task.cancel()
        self._task = self._create_task(self._when_due())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        standby, self._standby = self._standby, None
        if standby is not None:
            await standby.ws.close()

    def _quiet(self) -> bool:
        """Nobody is talking and nothing is owed: the one safe moment to switch sockets."""
        return (
            not self._caller_speaking
            and not self._bot_speaking
            and self._settled()
            and time.monotonic() - self._last_activity >= self._policy.quiet_s
        )

    async def _when_due(self) -> None:
        expires_at = self._expires_at
        assert expires_at is not None
        remaining = expires_at - time.time()
        lead = min(self._policy.lead_s, remaining / 2)
        await asyncio.sleep(max(0.0, remaining - lead))
        try:
            self._standby = await self._open_session()
        except RealtimeFailure as failure:
            logger.warning(
                f"{self._tag}rollover: could not open the next session ({failure}); "
                "the reconnect path will take over at the cap"
            )
            return
        while not self._quiet():
            if time.time() >= expires_at:
                logger.warning(f"{self._tag}rollover: no quiet moment before the session cap")
                await self.stop()
                return
            await asyncio.sleep(QUIET_POLL_S)
        await self._roll_over()

    async def _roll_over(self) -> None:
        standby, self._standby = self._standby, None
        assert standby is not None
        started = time.monotonic()
        age = started - self._session_started
        self._task = None  # this task; the switch schedules the next one
        replayed = await self._switch_to(standby)
        gap = time.monotonic() - started
        self._stats.rollovers.append(
            RolloverEntry(gap_s=round(gap, 3), items_replayed=replayed, session_age_s=round(age, 1))
        )
        logger.info(
            f"{self._tag}Realtime rollover after {age:.1f}s: new session {standby.session_id}, "
            f"gap {gap * 1000:.0f} ms, replayed {replayed} items"
        )
