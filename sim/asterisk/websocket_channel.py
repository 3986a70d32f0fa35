"""chan_websocket, Asterisk's side: Asterisk dials the bot's WebSocket and bridges a caller.

What this plays, and where it was read (channels/chan_websocket.c and
res/res_http_websocket.c, asterisk/asterisk master Aug 2026; the channel exists since
20.16/21.11/22.6/23.0, JSON control messages and MARK_MEDIA since 20.18/22.8/23.2):

* Connect: Asterisk is the client (webchan_call → ast_websocket_client_connect). The dial
  string's ``v(k=v,...)`` URI parameters are appended to the configured URI with ``&``
  (commas turned into ampersands; values must already be URI-encoded). The subprotocol is
  websocket_client.conf's ``protocols`` (``media`` here). Asterisk offers no extension and
  refuses a handshake answer that has ``Sec-WebSocket-Extensions`` ("Extensions received,
  but not supported by client" → WS_NOT_SUPPORTED) — so does this client.
* First message: MEDIA_START (TEXT), then the channel is answered (unless dialled with
  ``n``, then only on the bot's ANSWER). Caller audio goes out as BINARY frames of the
  channel's native format as the core writes them: 20 ms each here. DTMF from the caller:
  one DTMF_END event per digit (webchan_send_dtmf_text, digit end only).
* Bot → Asterisk: BINARY is media for the queue (sim.asterisk.queue); TEXT is a command
  (sim.asterisk.control); PING/PONG/CONTINUATION are ignored; CLOSE hangs the channel up.
  A frame bigger than AST_WEBSOCKET_MAX_RX_PAYLOAD_SIZE (65535 bytes with its header) makes
  ast_websocket_read() close the socket with 1009, which hangs the call up.
* Hang-up: Asterisk closes the WebSocket (webchan_hangup → ast_websocket_close with the
  tech cause, else 1000): on the caller's hang-up and on the bot's HANGUP command alike.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import quote

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidHandshake, InvalidURI, NegotiationError

from sim.asterisk.codecs import Codec, codec
from sim.asterisk.control import ControlFormat
from sim.asterisk.result import AsteriskCallResult
from sim.asterisk.websocket_session import DIRECTIONS, WebSocketSession
from sim.phone.steps import EchoPath, Step

SUBPROTOCOL = "media"


class AsteriskWebSocketCall:
    """One call Asterisk places to the bot over chan_websocket. ``await run()``."""

    def __init__(
        self,
        url: str,
        steps: Sequence[Step] = (),
        codec_name: str = "ulaw",
        control_format: str = "json",
        caller_number: str = "+15551230000",
        caller_name: str | None = None,
        dialed_number: str = "2001",
        uri_params: dict[str, str] | None = None,
        channel_variables: dict[str, str] | None = None,
        connection_id: str = "ai_bot",
        auto_answer: bool = True,
        media_direction: str = "both",
        wait_for_greeting_s: float | None = 10.0,
        answer_timeout_s: float = 10.0,
        echo: EchoPath | None = None,
        record_path: str | Path | None = None,
        connect_timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.steps = list(steps)
        self.codec: Codec = codec(codec_name)
        self.format = ControlFormat("plain-text" if control_format == "text" else control_format)
        self.caller_number = caller_number
        self.caller_name = caller_name
        self.dialed_number = dialed_number
        self.uri_params = uri_params
        self.channel_variables = dict(channel_variables or {})
        self.connection_id = connection_id
        self.auto_answer = auto_answer
        if media_direction not in DIRECTIONS:
            raise ValueError(f"media_direction must be one of {DIRECTIONS}")
        self.media_direction = media_direction
        self.wait_for_greeting_s = wait_for_greeting_s
        self.answer_timeout_s = answer_timeout_s
        self.echo = echo
        self.record_path = Path(record_path) if record_path else None
        self.connect_timeout_s = connect_timeout_s
        # Asterisk's uniqueid is "<epoch>.<sequence>"; the channel name embeds the pvt pointer.
        self.channel_id = f"{int(time.time())}.{random.randrange(1, 10_000)}"
        self.channel = f"WebSocket/{connection_id}/0x{random.getrandbits(44):011x}"

    def request_url(self) -> str:
        """The URI Asterisk requests: the configured one plus the dial string's v() params."""
        params = self.uri_params
        if params is None:
            params = {"cid": self.caller_number}
            if self.caller_name:
                params["cname"] = self.caller_name
            params["did"] = self.dialed_number
        if not params:
            return self.url
        query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
        return f"{self.url}{'&' if '?' in self.url else '?'}{query}"

    def variables(self) -> dict[str, str]:
        """The WebSocket channel's variables (MEDIA_START ``channel_variables``): the two
        set_channel_variables() sets, then those inherited from the caller's channel."""
        inherited = {"AI_CID": self.caller_number, "AI_DID": self.dialed_number}
        if self.caller_name:
            inherited["AI_CNAME"] = self.caller_name
        return {
            "MEDIA_WEBSOCKET_OPTIMAL_FRAME_SIZE": str(self.codec.optimal_frame_size),
            "MEDIA_WEBSOCKET_CONNECTION_ID": self.connection_id,
            **inherited,
            **self.channel_variables,
        }

    async def run(self) -> AsteriskCallResult:
        """Place the call, run the script, hang up; never raises for network trouble."""
        result = AsteriskCallResult(
            provider="asterisk",
            transport="websocket",
            codec=self.codec.name,
            control_format=self.format.value,
            call_sid=self.channel_id,
            stream_sid=self.connection_id,
        )
        session = WebSocketSession(self, result)  # loads the clips before dialling
        try:
            ws = await connect(
                self.request_url(),
                subprotocols=[SUBPROTOCOL],  # type: ignore[list-item]
                compression=None,
                user_agent_header=None,
                proxy=None,
                open_timeout=self.connect_timeout_s,
                ping_interval=None,
                max_size=None,
            )
        except NegotiationError as exc:
            result.errors.append(
                f"handshake refused: {exc} (Asterisk's client offers no extension and refuses "
                "a response with Sec-WebSocket-Extensions: WS_NOT_SUPPORTED)"
            )
            return result
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            result.errors.append(f"connect failed: {type(exc).__name__}: {exc}")
            return result
        result.connected = True
        await session.run(ws)
        return result
