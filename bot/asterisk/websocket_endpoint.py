"""`WS /asterisk`: a call Asterisk's chan_websocket places to the bot.

websocket_client.conf (`connection_type = per_call_config`, `protocols = media`) makes
Asterisk the WebSocket client; the dial string's `v(cid=…,cname=…,did=…,uuid=…)` arrives as
the query. The handshake answers with subprotocol `media` and never with an extension
(Asterisk refuses a server that answers permessage-deflate; uvicorn is configured without
it). The first message must be MEDIA_START; its format (plain text or JSON) is the call's.

Caller details, first found wins: the URI parameters `cid` / `cname` / `did`, then (JSON
calls) the channel variables `AI_CID` / `AI_CNAME` / `AI_DID`, then a FastAGI `register`
for one of the call's ids. All of it is untrusted and goes through `CallerInfo`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING

from fastapi import WebSocket
from loguru import logger

from bot.asterisk.calls import CallDirectory, call_key
from bot.config.caller_info import CallerInfo
from bot.telephony.line_call import LineCall
from pipelines.call_control.asterisk import AsteriskCallControl
from pipelines.transports.asterisk.control import (
    AsteriskProtocolError,
    MediaStart,
    parse_media_start,
)
from pipelines.transports.asterisk.transport import create_chan_websocket_line

if TYPE_CHECKING:
    from bot.telephony.server import TelephonyServer

SUBPROTOCOL = "media"
HANDSHAKE_TIMEOUT_S = 10.0
CLOSE_POLICY, CLOSE_TRY_LATER = 1008, 1013
# Dial-string parameters with a meaning; any others become the caller's custom values.
_PARAMS = {"cid": "AI_CID", "cname": "AI_CNAME", "did": "AI_DID", "uuid": "AI_UUID"}


def caller_from_dialplan(
    query: Mapping[str, str], variables: Mapping[str, str], registered: CallerInfo | None
) -> CallerInfo:
    def pick(param: str, fallback: str) -> str | None:
        return query.get(param) or variables.get(_PARAMS[param]) or fallback or None

    reg = registered or CallerInfo()
    return CallerInfo.from_untrusted(
        number=pick("cid", reg.number),
        name=pick("cname", reg.name),
        called_number=pick("did", reg.called_number),
        custom={k: v for k, v in query.items() if k not in _PARAMS},
    )


async def read_media_start(websocket: WebSocket, max_bytes: int) -> MediaStart:
    """The call's MEDIA_START; raises AsteriskProtocolError (not Asterisk, or too slow)."""
    try:
        async with asyncio.timeout(HANDSHAKE_TIMEOUT_S):
            message = await websocket.receive()
    except TimeoutError:
        raise AsteriskProtocolError(f"no MEDIA_START within {HANDSHAKE_TIMEOUT_S:g} s") from None
    if message["type"] == "websocket.disconnect":
        raise AsteriskProtocolError("closed before MEDIA_START")
    text = message.get("text")
    if text is None:
        raise AsteriskProtocolError("media before MEDIA_START")
    return parse_media_start(text, max_bytes)


class ChanWebSocketEndpoint:
    def __init__(self, server: TelephonyServer, directory: CallDirectory) -> None:
        self._server = server
        self._directory = directory

    async def __call__(self, websocket: WebSocket) -> None:
        server = self._server
        offered = websocket.scope.get("subprotocols") or []
        if SUBPROTOCOL not in offered:
            await websocket.accept()
            await self._refuse(websocket, CLOSE_POLICY, "subprotocol 'media' not offered")
            return
        await websocket.accept(subprotocol=SUBPROTOCOL)
        with server.admit() as refusal:
            if refusal is not None:
                await self._refuse(websocket, CLOSE_TRY_LATER, refusal)
                return
            settings = server.config.settings
            try:
                media = await read_media_start(websocket, settings.max_message_bytes)
                line = create_chan_websocket_line(
                    websocket,
                    media,
                    max_bytes=settings.max_message_bytes,
                    in_batch_ms=settings.audio_in_batch_ms,
                    out_chunk_ms=settings.audio_out_chunk_ms,
                )
            except AsteriskProtocolError as e:
                await self._refuse(websocket, CLOSE_POLICY, str(e))
                return
            query = dict(websocket.query_params)
            variables = media.channel_variables
            ids = [media.channel_id, query.get("uuid"), variables.get("AI_UUID")]
            keys = list(dict.fromkeys(k for k in map(call_key, ids) if k))
            caller = caller_from_dialplan(query, variables, self._directory.take_registration(keys))
            outcome = self._directory.call_started(media.channel_id, keys)
            bundle = server.config.bundle_for(caller.called_number)
            control = AsteriskCallControl(
                provider="asterisk",
                call_id=media.channel_id,
                leg=line,
                hangup_timeout_s=bundle.profile.tool_settings.hangup_timeout_s,
                on_handoff=outcome.hand_off,
            )

            @line.transport.event_handler("on_client_connected")
            async def answer(_transport, _client):
                # Only matters when dialled with `n` (no auto-answer): the bot is ready now.
                await line.channel.command("ANSWER")

            async def close() -> None:
                await server.close_websocket(websocket, 1000, "call ended")

            logger.info(
                f"asterisk {media.channel_id}: {media.format} "
                f"({media.control_format.value} control), frame {media.optimal_frame_size} B"
            )
            try:
                await server.run_line_call(
                    LineCall(
                        call_id=media.channel_id,
                        transport_name="asterisk",
                        transport=line.transport,
                        guard=line.serializer,
                        control=control,
                        caller=caller,
                        bundle=bundle,
                        close=close,
                        sample_rate=line.channel.codec.sample_rate,
                        g711=line.channel.codec.session_g711 or "pcmu",
                    )
                )
            finally:
                outcome.finished.set()

    async def _refuse(self, websocket: WebSocket, code: int, reason: str) -> None:
        logger.warning(f"refusing an Asterisk call ({code}): {reason}")
        await self._server.close_websocket(websocket, code, reason)
