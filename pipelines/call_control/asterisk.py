"""Call control on Asterisk lines: no ARI, no credentials — the dialplan does the rest.

Hang-up ends the bot's media leg once its last audio has played: on chan_websocket
REPORT_QUEUE_DRAINED → QUEUE_DRAINED → HANGUP, on AudioSocket the paced output's clock,
then 0x00. Transfer and voicemail are a *hand-off*: the decision is recorded (the
`on_handoff` callback; `bot/asterisk/` keeps it for the call's UUIDs), then the media leg
ends the same way, so the announcement is heard to its end. Asterisk's dialplan goes on
after `Dial(…,g)` / `AudioSocket()` and asks the bot's FastAGI `after` handler where to
send the caller; only a target from the profile's allow-list can ever get there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

from loguru import logger

from processors.tools.call_control import CallControlError

HandoffKind = Literal["transfer", "voicemail"]


@dataclass(frozen=True)
class Handoff:
    """Where the dialplan sends the caller after the bot's leg ends."""

    kind: HandoffKind
    target: str


class MediaLeg(Protocol):
    async def end_media_leg(self, timeout_s: float) -> None:
        """Ends the bot's leg once what it sent has played (at most ``timeout_s`` later)."""


class AsteriskCallControl:
    def __init__(
        self,
        *,
        provider: str,
        call_id: str,
        leg: MediaLeg,
        hangup_timeout_s: float,
        on_handoff: Callable[[Handoff], None] | None = None,
    ) -> None:
        self.provider = provider
        self._call_id = call_id
        self._leg = leg
        self._timeout_s = hangup_timeout_s
        self._on_handoff = on_handoff
        self._ended = False

    @property
    def can_transfer(self) -> bool:
        return self._on_handoff is not None

    @property
    def can_voicemail(self) -> bool:
        return self._on_handoff is not None

    async def hang_up(self) -> None:
        await self._end_leg()

    async def transfer(self, target: str) -> None:
        await self._hand_off(Handoff("transfer", target))

    async def send_to_voicemail(self, mailbox: str) -> None:
        await self._hand_off(Handoff("voicemail", mailbox))

    async def _hand_off(self, handoff: Handoff) -> None:
        if self._on_handoff is None:
            raise CallControlError(f"{handoff.kind} needs the FastAGI server on this line")
        self._on_handoff(handoff)
        logger.info(
            f"{self.provider} call {self._call_id}: {handoff.kind} to {handoff.target} "
            "recorded for the dialplan (FastAGI after)"
        )
        await self._end_leg()

    async def _end_leg(self) -> None:
        if self._ended:
            return
        self._ended = True
        try:
            await self._leg.end_media_leg(self._timeout_s)
        except (ConnectionError, OSError, RuntimeError) as exc:
            # The line is gone already: the caller hung up while the bot was finishing.
            raise CallControlError(f"ending the media leg failed: {exc}") from None
