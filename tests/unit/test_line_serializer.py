"""One pass per inbound line message: the guard that checks a media message also decodes its
audio, to exactly the frame the provider's Pipecat serializer would have made."""

import base64
import json
from types import SimpleNamespace

import numpy as np
import pytest
from pipecat.frames.frames import InputAudioRawFrame, InputDTMFFrame
from pipecat.runner.types import CallData, TelnyxCallData

from bot.config.settings import Settings
from pipelines.transports.media_stream_guard import (
    GuardedSerializer,
    MediaStreamProtocolError,
)
from pipelines.transports.telephony import create_provider_serializer, inbound_encoding

RNG = np.random.default_rng(7)


def media(payload: bytes) -> str:
    encoded = base64.b64encode(payload).decode()
    return json.dumps({"event": "media", "media": {"payload": encoded, "track": "inbound"}})


def serializers(provider: str, encoding: str | None = None):
    call = (
        TelnyxCallData(stream_id="MZ1", call_id="CA1", outbound_encoding=encoding)
        if encoding
        else CallData(stream_id="MZ1", call_id="CA1")
    )
    settings = Settings(_env_file=None)
    ours = GuardedSerializer(
        provider,
        create_provider_serializer(provider, call, settings),
        encoding=inbound_encoding(provider, call),
    )
    theirs = create_provider_serializer(provider, call, settings)
    return ours, theirs


async def set_up(*serializers_) -> None:
    setup = SimpleNamespace(audio_in_sample_rate=8000, audio_out_sample_rate=8000)
    for serializer in serializers_:
        await serializer.setup(setup)


@pytest.mark.parametrize(
    ("provider", "encoding"),
    [("twilio", None), ("telnyx", "PCMU"), ("telnyx", "PCMA"), ("plivo", None), ("exotel", None)],
)
async def test_media_decodes_to_the_frame_pipecat_would_make(provider, encoding):
    ours, theirs = serializers(provider, encoding)
    await set_up(ours, theirs)
    message = media(RNG.integers(0, 256, 160, dtype=np.uint8).tobytes())
    mine, expected = await ours.deserialize(message), await theirs.deserialize(message)
    assert isinstance(mine, InputAudioRawFrame) and isinstance(expected, InputAudioRawFrame)
    assert (mine.audio, mine.sample_rate, mine.num_channels) == (
        expected.audio,
        expected.sample_rate,
        expected.num_channels,
    )
    assert ours.last_media_at is not None


async def test_other_events_still_go_to_the_provider_serializer():
    ours, theirs = serializers("twilio")
    await set_up(ours, theirs)
    dtmf = json.dumps({"event": "dtmf", "dtmf": {"digit": "5"}})
    frame = await ours.deserialize(dtmf)
    assert isinstance(frame, InputDTMFFrame) and frame.button.value == "5"
    assert await ours.deserialize(media(b"")) is None, "an empty payload is no audio"


async def test_bad_base64_ends_the_call_with_its_reason():
    ours, _ = serializers("twilio")
    bad = json.dumps({"event": "media", "media": {"payload": "not base64!"}})
    with pytest.raises(MediaStreamProtocolError):
        await ours.deserialize(bad)
    assert ours.violation == "media payload is not valid base64"
