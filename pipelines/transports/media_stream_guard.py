"""Strict checks on provider media-stream messages, and caller audio decoded in the same pass.

Pipecat's telephony serializers are lenient: a non-JSON message is logged and skipped,
an unknown event is ignored, and a bad base64 payload raises deep inside the receive loop.
A phone line that sends garbage is broken (or hostile); we end *that* call with a
one-line reason instead of limping on, and never let it touch another call.

Media messages (50 a second per call) are parsed once: the check already holds the JSON and
the decoded payload, so :class:`GuardedSerializer` turns them into the audio frame itself
instead of handing the text to Pipecat's serializer to parse and decode again. The rare
other events (DTMF, marks, stop) still go to the provider's serializer.
"""

import audioop
import base64
import binascii
import json
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

from pipecat.frames.frames import Frame, InputAudioRawFrame
from pipecat.processors.frame_processor import FrameProcessorSetup
from pipecat.serializers.base_serializer import FrameSerializer

from pipelines.transports.inbound_audio_batch import AudioSink, InboundAudioBatch

# Inbound events each provider documents. Anything else on an established stream is a
# protocol violation.
KNOWN_EVENTS: dict[str, frozenset[str]] = {
    "twilio": frozenset({"connected", "start", "media", "dtmf", "mark", "stop"}),
    "telnyx": frozenset({"connected", "start", "media", "dtmf", "mark", "stop", "error"}),
    "plivo": frozenset({"start", "media", "dtmf", "playedStream", "clearedAudio", "stop"}),
    "exotel": frozenset({"connected", "start", "media", "dtmf", "mark", "clear", "stop"}),
}

MAX_MESSAGE_BYTES = 64 * 1024


class MediaStreamProtocolError(Exception):
    """The line sent something that is not its provider's media-stream protocol."""


def check_media_message(
    provider: str, data: str | bytes, max_bytes: int = MAX_MESSAGE_BYTES
) -> dict[str, Any]:
    """Parse and validate one inbound message, raising MediaStreamProtocolError with the reason."""
    return parse_media_message(provider, data, max_bytes)[0]


def parse_media_message(
    provider: str, data: str | bytes, max_bytes: int = MAX_MESSAGE_BYTES
) -> tuple[dict[str, Any], bytes | None]:
    """:func:`check_media_message`, also returning a media event's decoded payload."""
    # Characters first: a huge string is refused without encoding it.
    size = len(data) if isinstance(data, bytes) or len(data) > max_bytes else len(data.encode())
    if size > max_bytes:
        raise MediaStreamProtocolError(f"message of {size} bytes exceeds {max_bytes}")
    try:
        message = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise MediaStreamProtocolError(f"non-JSON message ({getattr(e, 'msg', e)})") from None
    if not isinstance(message, dict):
        raise MediaStreamProtocolError(f"message is a JSON {type(message).__name__}, not an object")
    event = message.get("event")
    # isinstance first: a list or object as "event" would make the set lookup itself raise.
    if not isinstance(event, str) or event not in KNOWN_EVENTS[provider]:
        raise MediaStreamProtocolError(f"unknown {provider} event {str(event)[:40]!r}")
    if event == "media":
        media = message.get("media")
        payload = media.get("payload") if isinstance(media, dict) else None
        if not isinstance(payload, str):
            raise MediaStreamProtocolError("media event without a string media.payload")
        try:
            return message, base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise MediaStreamProtocolError("media payload is not valid base64") from None
    return message, None


LineEncoding = Literal["PCMU", "PCMA", "L16"]

# The line's bytes → 16-bit PCM at the line's 8 kHz (what the pipeline runs at), as the
# provider's Pipecat serializer would decode them at equal rates.
DECODERS: dict[LineEncoding, Callable[[bytes], bytes]] = {
    "PCMU": lambda b: audioop.ulaw2lin(b, 2),
    "PCMA": lambda b: audioop.alaw2lin(b, 2),
    "L16": lambda b: b,
}


class LineGuard(Protocol):
    """What a call reads from its line's serializer: why the line broke, if it did, and when
    the caller last sent media (the idle-timeout watchdog)."""

    violation: str | None
    last_media_at: float | None


class GuardedSerializer(FrameSerializer):
    """Wraps a provider serializer: validates every inbound message, delegates the rest, and
    hands caller audio on in batches when given one.

    Raising from `deserialize` ends the transport's receive loop, which reports the line
    as disconnected; the call's disconnect handler then ends only this call and records
    `reason` as the cause.
    """

    def __init__(
        self,
        provider: str,
        inner: FrameSerializer,
        max_bytes: int = MAX_MESSAGE_BYTES,
        batch: InboundAudioBatch | None = None,
        encoding: LineEncoding | None = None,
        sample_rate: int = 8000,
    ):
        """``encoding``: decode media here, in the pass that checks it (the pipeline must
        run at the line's ``sample_rate``); ``None`` leaves media to ``inner`` too."""
        super().__init__()
        self._batch = batch
        self._decode = DECODERS[encoding] if encoding is not None else None
        self._sample_rate = sample_rate
        self._provider = provider
        self._inner = inner
        self._max_bytes = max_bytes
        self._sink: AudioSink | None = None
        self.violation: str | None = None
        # time.monotonic() of the last inbound media message; the idle-timeout watchdog reads it.
        self.last_media_at: float | None = None

    @property
    def inner(self) -> FrameSerializer:
        return self._inner

    def send_audio_to(self, sink: AudioSink) -> bool:
        """Hand decoded caller audio (in batches) to ``sink`` instead of returning frames (the
        audio fast lane). Only when this serializer decodes media itself: True if it does."""
        if self._decode is None:
            return False
        self._sink = sink
        return True

    async def setup(self, setup: FrameProcessorSetup):
        await self._inner.setup(setup)

    async def serialize(self, frame: Frame) -> str | bytes | None:
        return await self._inner.serialize(frame)

    async def deserialize(self, data: str | bytes) -> Frame | None:
        try:
            _message, payload = parse_media_message(self._provider, data, self._max_bytes)
        except MediaStreamProtocolError as e:
            self.violation = str(e)
            raise
        if payload is not None:
            self.last_media_at = time.monotonic()
            if self._decode is not None:
                if not payload:
                    return None  # as Pipecat's serializers: an empty payload is no frame
                if self._sink is not None:
                    await self._to_sink(self._decode(payload))
                    return None
                frame = InputAudioRawFrame(
                    audio=self._decode(payload), sample_rate=self._sample_rate, num_channels=1
                )
                return self._batch.add(frame) if self._batch is not None else frame
        frame = await self._inner.deserialize(data)
        if self._batch is not None and isinstance(frame, InputAudioRawFrame):
            return self._batch.add(frame)
        return frame

    async def _to_sink(self, pcm: bytes) -> None:
        rate = self._sample_rate
        audio = self._batch.add_audio(pcm, rate, 1) if self._batch is not None else pcm
        if audio is not None and self._sink is not None:
            await self._sink(audio, rate, 1)
