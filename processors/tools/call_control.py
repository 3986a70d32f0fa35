"""What the bot can do to the live call besides talking: the seam every transport implements.

Tools never call a provider directly; they ask `CallActions`, which calls this at the right
moment in the audio. Implementations: `pipelines/call_control/` (telephony REST, LiveKit).
"""

from __future__ import annotations

from typing import Protocol


class CallControlError(Exception):
    """The provider refused or could not be reached; the message is safe to log."""


class CallControl(Protocol):
    provider: str

    @property
    def can_transfer(self) -> bool: ...

    async def hang_up(self) -> None:
        """Called after the farewell, just before the pipeline ends."""

    @property
    def can_voicemail(self) -> bool: ...

    async def transfer(self, target: str) -> None:
        """Hand the caller to ``target`` (E.164, SIP URI, or a PBX extension on Asterisk);
        raises CallControlError."""

    async def send_to_voicemail(self, mailbox: str) -> None:
        """Hand the caller to a PBX mailbox (``2001@default``); raises CallControlError."""
