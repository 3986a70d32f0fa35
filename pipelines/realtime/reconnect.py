"""Reconnect: bring a call back onto a new Realtime session after its socket is lost.

One reconnect runs at a time. The service drops the lost session (its gap starts: events
queue, caller audio is held), a new one is opened with the bounded, jittered retries of
``open_with_retries``, the switch re-seeds it, and a reply the drop cut off is asked for
again unless a queued event already asks for one. Each reconnect is one entry in the call
record and one log line.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from loguru import logger

from pipelines.realtime.session_opener import ReadySession
from pipelines.realtime.stats import RealtimeHealth, ReconnectEntry

STOP_WAIT_S = 2.0


class Reconnector:
    """Owns the reconnect task. Calls back ``drop_session`` (True if a reply was cut off),
    ``open_session`` (with retries: the session, or None, and the attempts), ``switch_to``
    (items replayed, seconds of audio re-sent, whether a queued event asks for a reply) and
    ``rerequest`` (asks for the cut reply; False when there is no conversation yet)."""

    def __init__(
        self,
        *,
        stats: RealtimeHealth,
        tag: str,
        drop_session: Callable[[], Awaitable[bool]],
        open_session: Callable[[str], Awaitable[tuple[ReadySession | None, int]]],
        switch_to: Callable[[ReadySession], Awaitable[tuple[int, float, bool]]],
        rerequest: Callable[[], Awaitable[bool]],
        create_task: Callable[[Coroutine[Any, Any, None]], asyncio.Task],
    ) -> None:
        self._stats = stats
        self._tag = tag
        self._drop_session = drop_session
        self._open_session = open_session
        self._switch_to = switch_to
        self._rerequest = rerequest
        self._create_task = create_task
        self._task: asyncio.Task | None = None

    def start(self, cause: str) -> None:
        if self._task is None or self._task.done():
            self._task = self._create_task(self._reconnect(cause))

    async def stop(self) -> None:
        """Cancel a reconnect under way and wait (bounded) until it has let go: one left
        running would outlive its call, opening sessions for a call that has ended."""
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            # Bounded: its socket's closing handshake may wait on a server that is gone.
            await asyncio.wait({task}, timeout=STOP_WAIT_S)

    async def _reconnect(self, cause: str) -> None:
        started = time.monotonic()
        cut = await self._drop_session()
        logger.warning(f"{self._tag}Realtime connection lost ({cause}); reconnecting")
        ready, attempts = await self._open_session("reconnect")
        if ready is None:
            return
        replayed, audio_s, asks_response = await self._switch_to(ready)
        rerequest = cut and not asks_response and await self._rerequest()
        seconds = time.monotonic() - started
        self._stats.reconnects.append(
            ReconnectEntry(
                cause=cause,
                seconds=round(seconds, 3),
                attempts=attempts,
                items_replayed=replayed,
                audio_replayed_s=round(audio_s, 2),
                reply_rerequested=rerequest,
            )
        )
        logger.info(
            f"{self._tag}Realtime reconnected in {seconds:.2f}s (attempt {attempts}): "
            f"replayed {replayed} items and {audio_s:.1f}s of caller audio"
            + ("; re-requested the cut reply" if rerequest else "")
        )
