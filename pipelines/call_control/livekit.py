"""Call control in a LiveKit room: hang up a phone caller by removing their SIP participant,
transfer them with LiveKit's SIP REFER (`transfer_sip_participant`).

A browser participant is never removed: for them, "hang up" is the bot leaving the room,
which happens anyway when the call's pipeline ends.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal

from livekit import api
from loguru import logger

from processors.tools.call_control import CallControlError

ServerApi = Callable[[], AbstractAsyncContextManager[Any]]
SipHangup = Literal["remove_caller", "leave"]


def sip_transfer_target(target: str) -> str:
    """LiveKit wants a URI: `tel:+1555…` for a number, a SIP URI as it is."""
    return target if target.startswith(("sip:", "sips:", "tel:")) else f"tel:{target}"


class LiveKitCallControl:
    provider = "livekit"

    def __init__(
        self,
        room: str,
        sip_caller: Callable[[], str | None],
        server: ServerApi | None,
        sip_hangup: SipHangup = "remove_caller",
    ):
        """`sip_caller` names the SIP participant being served now (None for a browser
        caller); `server` opens livekit-api (None without LIVEKIT_API_KEY/SECRET)."""
        self._room = room
        self._sip_caller = sip_caller
        self._server = server
        self._sip_hangup = sip_hangup

    @property
    def can_transfer(self) -> bool:
        return self._server is not None and self._sip_caller() is not None

    @property
    def can_voicemail(self) -> bool:
        return False

    async def send_to_voicemail(self, mailbox: str) -> None:
        raise CallControlError("voicemail is only available on Asterisk lines")

    async def hang_up(self) -> None:
        identity = self._sip_caller()
        if identity is None or self._sip_hangup == "leave" or self._server is None:
            return
        try:
            async with self._server() as lkapi:
                await lkapi.room.remove_participant(
                    api.RoomParticipantIdentity(room=self._room, identity=identity)
                )
        except Exception as e:  # livekit-api raises TwirpError or aiohttp errors
            raise CallControlError(f"removing {identity} failed: {type(e).__name__}: {e}") from None
        logger.info(f"livekit: hung up on {identity} in room {self._room}")

    async def transfer(self, target: str) -> None:
        identity = self._sip_caller()
        if identity is None or self._server is None:
            raise CallControlError("only a phone (SIP) caller can be transferred")
        request = api.TransferSIPParticipantRequest(
            room_name=self._room,
            participant_identity=identity,
            transfer_to=sip_transfer_target(target),
            play_dialtone=False,
        )
        try:
            async with self._server() as lkapi:
                await lkapi.sip.transfer_sip_participant(request)
        except Exception as e:
            raise CallControlError(f"SIP transfer failed: {type(e).__name__}: {e}") from None
