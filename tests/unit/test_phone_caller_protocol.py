"""Wire-format tests: our provider messages against pipecat's own parsers (no sockets)."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from pipecat.frames.frames import InputAudioRawFrame, InputDTMFFrame, OutputAudioRawFrame
from pipecat.runner.utils import _detect_transport_type_from_message, parse_telephony_websocket

from sim.phone import Dtmf, Hangup, Say, Silence
from sim.phone.audio import SAMPLE_RATE
from sim.phone.cli import build_parser
from sim.phone.inbound import BotAudio, Clear, MalformedMessage, Mark, Other, parse_inbound
from sim.phone.playout import PlayoutBuffer
from sim.phone.protocol import PROVIDERS, CallIdentity, make_protocol
from tests.helpers.fakebot import make_serializer, tone

IDENTITY = CallIdentity(
    caller_number="+15551230000",
    called_number="+15559870000",
    caller_name="Ada",
    custom_parameters={"k": "v"},
)


class _StubWebSocket:
    def __init__(self, messages: list[dict[str, Any]]) -> None:
        self._messages = [json.dumps(m) for m in messages]

    async def iter_text(self) -> AsyncIterator[str]:
        for m in self._messages:
            yield m


def _handshake_plus_media(provider: str) -> tuple[Any, list[dict[str, Any]]]:
    proto = make_protocol(provider, IDENTITY)
    # Plivo's handshake is one message, so pipecat's second read sees the first media frame.
    return proto, [*proto.handshake(), proto.media(np.zeros(160, np.int16))]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_start_message_is_detected_as_provider(provider: str) -> None:
    proto = make_protocol(provider, IDENTITY)
    detected = [_detect_transport_type_from_message(m) for m in proto.handshake()]
    assert detected[-1] == provider
    assert all(d in ("unknown", provider) for d in detected)
    media = proto.media(np.zeros(160, np.int16))
    assert _detect_transport_type_from_message(media) == "unknown"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_parse_telephony_websocket(provider: str) -> None:
    proto, messages = _handshake_plus_media(provider)
    transport, call = await parse_telephony_websocket(_StubWebSocket(messages))
    assert transport == provider
    assert call.stream_id == proto.stream_sid and call.call_id == proto.call_sid
    if provider == "twilio":
        assert call.body == {
            "from_number": "+15551230000",
            "to_number": "+15559870000",
            "caller_name": "Ada",
            "k": "v",
        }
        assert call.from_number == "+15551230000"
    if provider in ("telnyx", "exotel"):
        assert call.from_number == "+15551230000" and call.to_number == "+15559870000"
    if provider == "telnyx":
        assert call.outbound_encoding == "PCMU"
    if provider == "exotel":
        assert call.account_sid == proto.account_sid
        assert call.custom_parameters["caller_name"] == "Ada"
    if provider == "plivo":
        assert "k=v" in messages[0]["extra_headers"].split(";")


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_pipecat_serializer_decodes_our_media_and_dtmf(provider: str) -> None:
    proto, messages = _handshake_plus_media(provider)
    _, call = await parse_telephony_websocket(_StubWebSocket(messages))
    ser = make_serializer(provider, call)
    await ser.setup(SimpleNamespace(audio_in_sample_rate=SAMPLE_RATE))  # type: ignore[arg-type]
    sent = tone(0.02, 500.0, 8000.0)
    frame = await ser.deserialize(json.dumps(proto.media(sent)))
    assert isinstance(frame, InputAudioRawFrame)
    got = np.frombuffer(frame.audio, np.int16)
    assert got.size == 160
    assert np.max(np.abs(got.astype(int) - sent)) < 400  # μ-law quantisation
    dtmf = await ser.deserialize(json.dumps(proto.dtmf("5")))
    assert isinstance(dtmf, InputDTMFFrame) and dtmf.button.value == "5"


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_inbound_parses_serializer_output(provider: str) -> None:
    _, messages = _handshake_plus_media(provider)
    _, call = await parse_telephony_websocket(_StubWebSocket(messages))
    ser = make_serializer(provider, call)
    bot = tone(0.1, 400.0, 8000.0)
    out = await ser.serialize(OutputAudioRawFrame(bot.tobytes(), SAMPLE_RATE, 1))
    assert isinstance(out, str)
    event = parse_inbound(provider, out)
    assert isinstance(event, BotAudio) and event.samples.size == 800
    assert np.max(np.abs(event.samples.astype(int) - bot)) < 400


def test_silence_frames_are_ulaw_0xff_and_counters_advance() -> None:
    proto = make_protocol("twilio", IDENTITY)
    proto.handshake()
    a, b = proto.media(np.zeros(160, np.int16)), proto.media(np.zeros(160, np.int16))
    assert base64.b64decode(a["media"]["payload"]) == b"\xff" * 160
    assert (a["sequenceNumber"], b["sequenceNumber"]) == ("2", "3")
    assert (a["media"]["chunk"], b["media"]["chunk"]) == ("1", "2")
    assert (a["media"]["timestamp"], b["media"]["timestamp"]) == ("0", "20")
    assert proto.stop()["stop"]["callSid"] == proto.call_sid


def test_plivo_l16_16k_play_audio_is_resampled() -> None:
    pcm = tone(0.1, 400.0).repeat(2)  # stand-in for 16 kHz audio: 1600 samples
    msg = {
        "event": "playAudio",
        "media": {
            "contentType": "audio/x-l16",
            "sampleRate": 16000,
            "payload": base64.b64encode(pcm.tobytes()).decode(),
        },
    }
    event = parse_inbound("plivo", json.dumps(msg))
    assert isinstance(event, BotAudio) and event.samples.size == 800


def test_inbound_control_messages_and_malformed() -> None:
    assert isinstance(parse_inbound("twilio", '{"event":"clear","streamSid":"x"}'), Clear)
    assert isinstance(parse_inbound("plivo", '{"event":"clearAudio"}'), Clear)
    assert parse_inbound("plivo", '{"event":"checkpoint","name":"a"}') == Mark("a")
    assert parse_inbound("exotel", '{"event":"mark","mark":{"name":"b"}}') == Mark("b")
    assert parse_inbound("telnyx", '{"event":"error"}') == Other("error")
    for bad in ["{", "[]", '{"event":"mark"}', '{"event":"media","media":{}}', b"\x00"]:
        with pytest.raises(MalformedMessage):
            parse_inbound("twilio", bad)


def test_playout_buffer_marks_and_clear() -> None:
    buf = PlayoutBuffer()
    buf.push_audio(np.ones(200, np.int16))
    buf.push_mark("a")
    buf.push_audio(np.ones(100, np.int16))
    buf.push_mark("b")
    out, reached = buf.pull(160)
    assert out.sum() == 160 and reached == []
    out, reached = buf.pull(160)
    # Both chunks finish inside this frame; the starved tail is zero-padded.
    assert out.sum() == 140 and reached == ["a", "b"]
    assert buf.queued_samples == 0
    buf.push_mark("idle")  # nothing queued: a mark is reached on the next frame
    _, reached = buf.pull(160)
    assert reached == ["idle"]
    buf.push_audio(np.ones(500, np.int16))
    buf.push_mark("c")
    assert buf.clear() == ["c"] and buf.queued_samples == 0
    out, _ = buf.pull(160)
    assert not out.any()


def test_cli_keeps_step_order() -> None:
    args = build_parser().parse_args(
        [
            "--url",
            "ws://h/ws",
            "--say",
            "a.wav",
            "--silence",
            "3",
            "--dtmf",
            "12#",
            "--say",
            "b.wav",
            "--hangup-after-bot-audio",
            "1.5",
            "--param",
            "x=1",
        ]
    )
    assert args.steps == [
        Say("a.wav"),
        Silence(3.0),
        Dtmf("12#"),
        Say("b.wav"),
        Hangup(after_bot_audio_s=1.5),
    ]
    assert args.param == [("x", "1")]
