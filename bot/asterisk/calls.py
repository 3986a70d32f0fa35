"""What the Asterisk endpoints share about each call, keyed by the ids the dialplan knows.

The dialplan and the bot meet in three places that do not share a socket: FastAGI
`register` (caller details, before an AudioSocket call, which carries only a UUID), the
call itself, and FastAGI `after` (where to send the caller once the bot's leg ended). They
meet here, by key: the AudioSocket UUID, or for chan_websocket the channel id of MEDIA_START
and the `uuid` URI parameter / `AI_UUID` variable (the caller channel's ${UNIQUEID}, the one
id its dialplan can name in `after`).

Everything is bounded: registrations expire after a couple of minutes (they are used at
once), finished calls after ten, and the table never holds more than MAX_ENTRIES keys, so a
dialplan (or anyone who reaches the AGI port) cannot grow it without limit.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.config.caller_info import CallerInfo
from pipelines.call_control.asterisk import Handoff

REGISTRATION_TTL_S = 120.0
OUTCOME_TTL_S = 600.0
MAX_ENTRIES = 10_000
MAX_KEY_LEN = 150


def call_key(value: object) -> str | None:
    """A dialplan id as a lookup key: UUIDs in canonical form, other ids as they are."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or len(text) > MAX_KEY_LEN or not text.isprintable():
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return text


@dataclass
class CallOutcome:
    """A call the bot has taken: live until `finished` is set; `handoff` if it handed off."""

    call_id: str
    handoff: Handoff | None = None
    finished: asyncio.Event = field(default_factory=asyncio.Event)

    def hand_off(self, handoff: Handoff) -> None:
        self.handoff = handoff


class _Expiring:
    """key → value, oldest first, dropped after ``ttl_s`` or beyond ``MAX_ENTRIES``."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl_s = ttl_s
        self._items: OrderedDict[str, tuple[float, object]] = OrderedDict()

    def put(self, key: str, value: object) -> None:
        self._prune()
        self._items.pop(key, None)
        self._items[key] = (time.monotonic(), value)
        while len(self._items) > MAX_ENTRIES:
            self._items.popitem(last=False)

    def get(self, key: str) -> object | None:
        self._prune()
        item = self._items.get(key)
        return item[1] if item else None

    def pop(self, key: str) -> object | None:
        self._prune()
        item = self._items.pop(key, None)
        return item[1] if item else None

    def _prune(self) -> None:
        oldest = time.monotonic() - self._ttl_s
        while self._items and next(iter(self._items.values()))[0] < oldest:
            self._items.popitem(last=False)


class CallDirectory:
    def __init__(self) -> None:
        self._registrations = _Expiring(REGISTRATION_TTL_S)
        self._calls = _Expiring(OUTCOME_TTL_S)

    def register(self, key: str, caller: CallerInfo) -> None:
        """FastAGI `register`: the caller of the call that is about to connect."""
        self._registrations.put(key, caller)

    def take_registration(self, keys: Iterable[str]) -> CallerInfo | None:
        for key in keys:
            caller = self._registrations.pop(key)
            if isinstance(caller, CallerInfo):
                return caller
        return None

    def call_started(self, call_id: str, keys: Iterable[str]) -> CallOutcome:
        outcome = CallOutcome(call_id)
        for key in keys:
            self._calls.put(key, outcome)
        return outcome

    async def outcome(self, key: str, wait_s: float) -> CallOutcome | None:
        """The call known by ``key``, once it has finished or ``wait_s`` passed (the dialplan
        may ask the moment Asterisk's leg closed, before the bot has seen it close)."""
        outcome = self._calls.get(key)
        if not isinstance(outcome, CallOutcome):
            return None
        if outcome.handoff is None and not outcome.finished.is_set():
            try:
                await asyncio.wait_for(outcome.finished.wait(), wait_s)
            except TimeoutError:
                pass
        return outcome
