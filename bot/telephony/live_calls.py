"""The calls a server process is running, and ending them all within a bound.

Every way a process stops goes through `end_all` before the Realtime endpoint (the offline
emulator) is stopped and before the event loop is torn down: calls left to the loop's
teardown are cancelled together with their own pipeline tasks, and Pipecat's cancel then
waits forever for a frame no task is left to carry.
"""

import asyncio
from collections.abc import Iterator, Mapping

from loguru import logger

from bot.call.call import Call


class LiveCalls(Mapping[str, Call]):
    """Live calls by call id, with an event for "none left"."""

    def __init__(self) -> None:
        self._calls: dict[str, Call] = {}
        # Calls that did not end within their grace when asked: named if the process must
        # be cut short (a cancelled task may leave the list while its pipeline is stuck).
        self._would_not_end: list[str] = []
        self._none_left = asyncio.Event()
        self._none_left.set()

    def __getitem__(self, call_id: str) -> Call:
        return self._calls[call_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._calls)

    def __len__(self) -> int:
        return len(self._calls)

    def add(self, call_id: str, call: Call) -> None:
        self._calls[call_id] = call
        self._none_left.clear()

    def remove(self, call_id: str) -> None:
        self._calls.pop(call_id, None)
        if not self._calls:
            self._none_left.set()

    def unfinished(self) -> list[str]:
        """Ids of the calls live now or that would not end when asked."""
        return list(dict.fromkeys([*self._would_not_end, *self._calls]))

    async def wait_until_none(self, timeout_s: float) -> bool:
        """True once no call is live; False if some still are after `timeout_s`."""
        try:
            await asyncio.wait_for(self._none_left.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    async def end_all(self, reason: str, grace_s: float) -> list[str]:
        """Cancel every live call, even one already ending, and give them `grace_s`
        to finish and write their records. Returns the ids of calls still live then, logged:
        a call that does not end must not hold the process."""
        if not self._calls:
            return []
        logger.warning(f"ending {len(self._calls)} live calls: {reason}")

        async def end_each() -> None:
            for call in list(self._calls.values()):
                await call.cancel(reason)
            await self._none_left.wait()

        try:
            await asyncio.wait_for(end_each(), grace_s)
        except TimeoutError:
            stuck = list(self._calls)
            self._would_not_end += [i for i in stuck if i not in self._would_not_end]
            logger.error(
                f"{len(stuck)} calls still live {grace_s:g}s after being ended "
                f"(DRAIN_GRACE_S): {', '.join(stuck)}"
            )
            return stuck
        return []
