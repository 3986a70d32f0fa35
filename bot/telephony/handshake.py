"""The start of a media stream: Pipecat's `parse_telephony_websocket`, held to the same
strictness as the rest of the stream.

Pipecat reads the first one or two messages and is lenient with them (non-JSON is skipped,
odd shapes become empty fields). Here every handshake message must pass the media-stream
guard, the stream must be the line's provider with string ids, and its audio format, when
announced, must be the 8 kHz codec the line's serializer decodes.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from fastapi import WebSocket
from pipecat.runner.types import CallData
from pipecat.runner.utils import parse_telephony_websocket

from pipelines.transports.media_stream_guard import MediaStreamProtocolError, check_media_message

MAX_ID_LEN = 128
# (where the start message announces the format, accepted encodings)
_FORMATS: dict[str, tuple[str, frozenset[str]]] = {
    "twilio": ("mediaFormat", frozenset({"audio/x-mulaw"})),
    "telnyx": ("media_format", frozenset({"PCMU", "PCMA"})),
    "plivo": ("mediaFormat", frozenset({"audio/x-mulaw"})),
    "exotel": ("media_format", frozenset({"audio/x-raw", "raw/slin"})),
}
_RATE_KEYS = ("sampleRate", "sample_rate")


class HandshakeRefused(Exception):
    """The stream did not start like a call of this line; the message is the logged reason."""


class _RecordingSocket:
    """What `parse_telephony_websocket` needs of a WebSocket, keeping the raw messages."""

    def __init__(self, websocket: WebSocket):
        self._websocket = websocket
        self.messages: list[str] = []

    async def iter_text(self) -> AsyncIterator[str]:
        while True:
            message = await self._websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                raise HandshakeRefused("binary message in the handshake")
            self.messages.append(text)
            yield text


def _check_format(provider: str, message: dict[str, Any]) -> None:
    start = message.get("start")
    if message.get("event") != "start" or not isinstance(start, dict):
        return
    key, encodings = _FORMATS[provider]
    fmt = start.get(key)
    if fmt is None:
        return
    if not isinstance(fmt, dict):
        raise HandshakeRefused(f"start.{key} is not an object")
    encoding = fmt.get("encoding")
    if encoding is not None and encoding not in encodings:
        raise HandshakeRefused(f"unsupported codec {str(encoding)[:40]!r}")
    rate = next((fmt[k] for k in _RATE_KEYS if k in fmt), None)
    if rate is not None and str(rate) != "8000":
        raise HandshakeRefused(f"unsupported sample rate {str(rate)[:20]!r} (8000 only)")


def _check_ids(call_data: CallData) -> None:
    for field in ("stream_id", "call_id"):
        value = call_data.get(field)
        if not isinstance(value, str) or not value or len(value) > MAX_ID_LEN:
            raise HandshakeRefused(f"start without a valid {field}")
    if not isinstance(call_data.get("body") or {}, dict):
        raise HandshakeRefused("custom parameters are not an object")


async def read_handshake(
    websocket: WebSocket, provider: str, timeout_s: float, max_bytes: int
) -> CallData:
    """The call's data from its first messages; raises HandshakeRefused with the reason."""
    recording = _RecordingSocket(websocket)
    try:
        async with asyncio.timeout(timeout_s):
            detected, call_data = await parse_telephony_websocket(recording)
    except HandshakeRefused:
        raise
    except TimeoutError:
        raise HandshakeRefused(f"no handshake within {timeout_s:g} s") from None
    except Exception as e:
        # Pipecat raises ValueError, pydantic errors or whatever a hostile shape trips over.
        raise HandshakeRefused(f"bad handshake ({type(e).__name__})") from None
    for raw in recording.messages:
        try:
            message = check_media_message(provider, raw, max_bytes)
        except MediaStreamProtocolError as e:
            raise HandshakeRefused(str(e)) from None
        _check_format(provider, message)
    if detected != provider:
        raise HandshakeRefused(f"expected a {provider} stream, got {detected}")
    _check_ids(call_data)
    return call_data


def stream_token_of(call_data: CallData, query: dict[str, str]) -> object:
    """The token a stream presents: a custom parameter (Twilio) or the URL's query."""
    body = call_data.get("body") or {}
    return body.get("stream_token") or query.get("stream_token")
