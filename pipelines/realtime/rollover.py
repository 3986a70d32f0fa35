"""Rollover: move a call to a fresh Realtime session before the server's cap ends the old one.

The next session is opened ahead of ``expires_at`` (``RolloverPolicy.lead_s``, at most half
the session's life), so the switch costs only the replay, not a connect. The switch waits
for a moment when neither side is talking and no reply or tool result is owed: a switch
then loses nothing the caller would notice. If no such moment comes before the cap, the
server ends the session and the reconnect path takes over.
"""

import asyncio
import time

from loguru import logger

from pipelines.realtime.errors import RealtimeFailure
from pipelines.realtime.session_opener import ReadySession
from pipelines.realtime.stats import RolloverEntry

QUIET_POLL_S = 0.05


class RolloverMixin:
    """Part of ResilientRealtimeLLMService; uses its connection and state attributes."""

    def _init_rollover(self) -> None:
        self._session_expires_at: float | None = None
        self._session_started = time.monotonic()
        self._rollover_task: asyncio.Task | None = None
        self._standby: ReadySession | None = None
        self._caller_speaking = False
        self._bot_speaking = False
        self._last_activity = time.monotonic()

    def _mark_activity(self) -> None:
        self._last_activity = time.monotonic()

    def _schedule_rollover(self) -> None:
        policy = self.resilience.rollover
        if not policy.enabled or self._session_expires_at is None or self._closing:
            return
        if self._rollover_task is not None and self._rollover_task is not asyncio.current_task():
            self._rollover_task.cancel()
        self._rollover_task = self.create_task(self._rollover_when_due())

    async def _stop_rollover(self) -> None:
        task, self._rollover_task = self._rollover_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        standby, self._standby = self._standby, None
        if standby is not None:
            await standby.ws.close()

    def _quiet(self) -> bool:
        """Nobody is talking and nothing is owed: the one safe moment to switch sockets."""
        return (
            self._queued is None
            and self._websocket is not None
            and not self._caller_speaking
            and not self._bot_speaking
            and not self._response_active
            and not self._guard.reply_owed
            and self._current_audio_response is None
            and not self._open_function_calls
            and not self._awaiting_transcript
            and not self._unacked
            and time.monotonic() - self._last_activity >= self.resilience.rollover.quiet_s
        )

    async def _rollover_when_due(self) -> None:
        expires_at = self._session_expires_at
        assert expires_at is not None
        remaining = expires_at - time.time()
        lead = min(self.resilience.rollover.lead_s, remaining / 2)
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
                await self._stop_rollover()
                return
            await asyncio.sleep(QUIET_POLL_S)
        await self._roll_over()

    async def _roll_over(self) -> None:
        standby, self._standby = self._standby, None
        assert standby is not None
        started = time.monotonic()
        age = started - self._session_started
        self._rollover_task = None  # this task; the switch schedules the next one
        self._begin_gap()
        replayed, _audio_s, _asks = await self._switch_to(standby)
        gap = time.monotonic() - started
        self.stats.rollovers.append(
            RolloverEntry(gap_s=round(gap, 3), items_replayed=replayed, session_age_s=round(age, 1))
        )
        logger.info(
            f"{self._tag}Realtime rollover after {age:.1f}s: new session {standby.session_id}, "
            f"gap {gap * 1000:.0f} ms, replayed {replayed} items"
        )
