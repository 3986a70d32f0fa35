"""Fuzzing the line parsers: every inbound message and every handshake either parses to
something the call can use or is refused with a reason; no other exception escapes.

Derandomized and bounded so CI runs the same cases every time (700 + 400 here; the whole
/ws endpoint is fuzzed in tests/inprocess/test_fuzz_ws_endpoint.py)."""

import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.telephony.handshake import HandshakeRefused, read_handshake
from pipelines.transports.media_stream_guard import (
    KNOWN_EVENTS,
    MediaStreamProtocolError,
    check_media_message,
)
from tests.helpers.fuzz_messages import OVERSIZE_LIMIT, connection_scripts, media_frames


def profile(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        database=None,
    )


@profile(700)
@given(provider=st.sampled_from(sorted(KNOWN_EVENTS)), data=media_frames())
def test_media_messages_parse_or_are_refused_with_a_reason(provider, data):
    try:
        message = check_media_message(provider, data, OVERSIZE_LIMIT)
    except MediaStreamProtocolError as e:
        assert str(e), "a refusal names its reason"
        return
    assert message["event"] in KNOWN_EVENTS[provider]
    assert len(data) <= OVERSIZE_LIMIT


class ScriptedSocket:
    """The part of a Starlette WebSocket the handshake reads: queued frames, then hang-up."""

    def __init__(self, messages: list[str | bytes]):
        self._frames = [
            {"type": "websocket.receive", "bytes": m}
            if isinstance(m, bytes)
            else {"type": "websocket.receive", "text": m}
            for m in messages
        ]

    async def receive(self) -> dict:
        return self._frames.pop(0) if self._frames else {"type": "websocket.disconnect"}


@profile(400)
@given(script=connection_scripts())
def test_handshakes_give_usable_call_data_or_a_refusal(script):
    call_sid, messages = script
    socket = ScriptedSocket(messages)
    try:
        call_data = asyncio.run(read_handshake(socket, "twilio", 1.0, OVERSIZE_LIMIT))
    except HandshakeRefused as e:
        assert str(e)
        return
    # Accepted: the ids are the strings the serializer and the call record need.
    assert isinstance(call_data["stream_id"], str) and call_data["stream_id"]
    assert call_data["call_id"] == call_sid
    assert isinstance(call_data.get("body") or {}, dict)
    first_two = [json.loads(m) for m in messages[:2]]
    assert any(m.get("event") == "start" for m in first_two)
