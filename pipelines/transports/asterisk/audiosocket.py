"""AudioSocket, the bot's side: message framing and the serializer.

Asterisk connects over TCP (AudioSocket() or Dial(AudioSocket/…)); every message is one
kind byte, a 2-byte big-endian length and the payload (include/asterisk/res_audiosocket.h):
0x00 hang-up, 0x01 the call's UUID (16 bytes, always first), 0x02 silence, 0x03 one DTMF
digit (ASCII), 0x10–0x18 16-bit little-endian PCM at 8, 12, 16, 24, 32, 44.1, 48, 96 or
192 kHz, 0xff an error. AudioSocket() itself always sends 0x10; the other rates come from
the channel driver (`Dial(AudioSocket/host:port/uuid/c(slin16))`, 20.17 / 22.7 / 23.1+).

The bot answers in the kind the caller's audio came in, and hangs up with 0x00. Asterisk
never paces what it gets (PacedOutputTransport does), and on the caller's hang-up it simply
closes the socket.

Strict, as every line: any other kind, a zero-length UUID/DTMF/audio message, audio before
the UUID, a second UUID or audio at a rate the call did not start with ends that call only,
with the reason in `violation`.
"""

from __future__ import annotations

import asyncio
import struct
import time
import uuid

from loguru import logger
from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.frames.frames import AudioRawFrame, Frame, InputAudioRawFrame, InputDTMFFrame
from pipecat.serializers.base_serializer import FrameSerializer

from pipelines.transports.asterisk.codecs import LineCodec
from pipelines.transports.asterisk.control import AsteriskProtocolError
from pipelines.transports.inbound_audio_batch import InboundAudioBatch

KIND_HANGUP = 0x00
KIND_UUID = 0x01
KIND_SILENCE = 0x02
KIND_DTMF = 0x03
KIND_ERROR = 0xFF
# 0x10 slin (8 kHz) … 0x18 slin192, in res_audiosocket.h's order.
_RATES = (8000, 12000, 16000, 24000, 32000, 44100, 48000, 96000, 192000)
AUDIO_KIND_RATES = dict(zip(range(0x10, 0x10 + len(_RATES)), _RATES, strict=True))
RATE_AUDIO_KINDS = {rate: kind for kind, rate in AUDIO_KIND_RATES.items()}
MAX_PAYLOAD = 0xFFFF
_KEYS = frozenset(k.value for k in KeypadEntry)


class CallerHungUp(Exception):
    """Asterisk sent 0x00 (it closes the socket instead, but the protocol allows it)."""


def message(kind: int, payload: bytes = b"") -> bytes:
    """One AudioSocket message; longer payloads become several messages of the same kind."""
    if len(payload) <= MAX_PAYLOAD:
        return struct.pack(">BH", kind, len(payload)) + payload
    step = MAX_PAYLOAD - MAX_PAYLOAD % 2
    return b"".join(message(kind, payload[i : i + step]) for i in range(0, len(payload), step))


async def read_message(reader: asyncio.StreamReader) -> bytes:
    """The next message as its kind byte followed by its payload (the length is framing).
    Raises asyncio.IncompleteReadError when the socket closes."""
    header = await reader.readexactly(3)
    kind, length = struct.unpack(">BH", header)
    return bytes((kind,)) + (await reader.readexactly(length) if length else b"")


def describe_kind(kind: int) -> str:
    return f"0x{kind:02x}"


def call_uuid(first: bytes) -> str:
    """The UUID of the first message; raises AsteriskProtocolError for anything else."""
    kind, payload = first[0], first[1:]
    if kind in AUDIO_KIND_RATES:
        raise AsteriskProtocolError("audio before the UUID")
    if kind != KIND_UUID:
        raise AsteriskProtocolError(f"message kind {describe_kind(kind)} before the UUID")
    if len(payload) != 16:
        raise AsteriskProtocolError(f"UUID message of {len(payload)} bytes (16 expected)")
    return str(uuid.UUID(bytes=payload))


def check_kind(kind: int, payload: bytes) -> None:
    """Refuses kinds AudioSocket does not have, and empty payloads where one is needed."""
    known = kind in (KIND_HANGUP, KIND_UUID, KIND_SILENCE, KIND_DTMF) or kind in AUDIO_KIND_RATES
    if kind == KIND_ERROR:
        code = f" (code {payload[0]})" if payload else ""
        raise AsteriskProtocolError(f"Asterisk sent an AudioSocket error message{code}")
    if not known:
        raise AsteriskProtocolError(f"unknown AudioSocket message kind {describe_kind(kind)}")
    if not payload and kind in (KIND_UUID, KIND_DTMF, *AUDIO_KIND_RATES):
        raise AsteriskProtocolError(f"zero-length message of kind {describe_kind(kind)}")


class AudioSocketSerializer(FrameSerializer):
    """AudioSocket messages (kind byte + payload, as `read_message` gives them) ↔ frames."""

    def __init__(self, codec: LineCodec, batch: InboundAudioBatch | None = None) -> None:
        super().__init__()
        self._codec = codec
        self._kind = RATE_AUDIO_KINDS[codec.sample_rate]
        self._batch = batch
        self.violation: str | None = None
        self.last_media_at: float | None = None

    async def deserialize(self, data: str | bytes) -> Frame | None:
        try:
            if not isinstance(data, bytes) or not data:
                raise AsteriskProtocolError("not an AudioSocket message")
            return self._read(data[0], data[1:])
        except AsteriskProtocolError as e:
            self.violation = str(e)
            raise

    def _read(self, kind: int, payload: bytes) -> Frame | None:
        check_kind(kind, payload)
        if kind == self._kind:
            if len(payload) % 2:
                raise AsteriskProtocolError(f"audio message of {len(payload)} bytes (odd)")
            self.last_media_at = time.monotonic()
            frame = InputAudioRawFrame(
                audio=payload, sample_rate=self._codec.sample_rate, num_channels=1
            )
            return self._batch.add(frame) if self._batch is not None else frame
        if kind in AUDIO_KIND_RATES:
            raise AsteriskProtocolError(
                f"audio at {AUDIO_KIND_RATES[kind]} Hz on a {self._codec.sample_rate} Hz call"
            )
        if kind == KIND_DTMF:
            digit = payload[:1].decode("ascii", errors="replace")
            if len(payload) == 1 and digit in _KEYS:
                return InputDTMFFrame(KeypadEntry(digit))
            logger.debug(f"audiosocket: DTMF {payload[:4]!r} ignored")
            return None
        if kind == KIND_UUID:
            raise AsteriskProtocolError("a second UUID")
        if kind == KIND_HANGUP:
            raise CallerHungUp()
        return None  # KIND_SILENCE

    async def serialize(self, frame: Frame) -> str | bytes | None:
        # No FLUSH exists on AudioSocket: after a barge-in the paced output simply stops.
        if isinstance(frame, AudioRawFrame) and frame.audio:
            return message(self._kind, frame.audio)
        return None


HANGUP_MESSAGE = message(KIND_HANGUP)
