"""Asterisk's chan_websocket ↔ Pipecat frames, held to the protocol (cf. Pipecat's
serializers/twilio.py: one provider's wire format in one module).

In: BINARY frames are the caller's audio in the call's format; TEXT frames are events,
which update the call's `AsteriskChannel` (flow control, marks, queue drained) or become
frames (DTMF_END → `InputDTMFFrame`, for the `dtmf` processor). Anything Asterisk does not
send ends the call: `deserialize` records the reason in `violation` and raises, which ends
the transport's receive loop; the call's disconnect handler then ends this call only with
`protocol error: <reason>` (as `GuardedSerializer` does for the JSON lines).

Out: bot audio leaves in whole `optimal_frame_size` frames — Asterisk drops a trailing
partial frame — with any remainder carried to the next chunk; an interruption becomes
FLUSH_MEDIA, which empties Asterisk's queue so nothing the bot said before the barge-in is
played after it.
"""

from __future__ import annotations

import time

from loguru import logger
from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.frames.frames import (
    AudioRawFrame,
    Frame,
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
)
from pipecat.serializers.base_serializer import FrameSerializer

from pipelines.transports.asterisk.channel import AsteriskChannel
from pipelines.transports.asterisk.control import (
    AsteriskProtocolError,
    ControlFormat,
    parse_event,
    render_command,
)
from pipelines.transports.inbound_audio_batch import InboundAudioBatch

_KEYS = frozenset(k.value for k in KeypadEntry)


class AsteriskFrameSerializer(FrameSerializer):
    def __init__(
        self,
        channel: AsteriskChannel,
        max_bytes: int,
        batch: InboundAudioBatch | None = None,
    ) -> None:
        super().__init__()
        self.channel = channel
        self._codec = channel.codec
        self._frame_bytes = channel.media.optimal_frame_size
        self._max_bytes = max_bytes
        self._batch = batch
        self._remainder = b""
        self.violation: str | None = None
        # time.monotonic() of the last caller audio; the idle-timeout watchdog reads it.
        self.last_media_at: float | None = None

    @property
    def format(self) -> ControlFormat:
        return self.channel.format

    # -- Asterisk → bot ---------------------------------------------------------------

    async def deserialize(self, data: str | bytes) -> Frame | None:
        try:
            if isinstance(data, bytes):
                return self._audio(data)
            return self._event(data)
        except AsteriskProtocolError as e:
            self.violation = str(e)
            raise

    def _audio(self, data: bytes) -> Frame | None:
        if len(data) > self._max_bytes:
            raise AsteriskProtocolError(f"media of {len(data)} bytes exceeds {self._max_bytes}")
        if not data or len(data) % self._codec.wire_bytes_per_sample:
            raise AsteriskProtocolError(f"{self._codec.name} media of {len(data)} bytes")
        self.last_media_at = time.monotonic()
        frame = InputAudioRawFrame(
            audio=self._codec.decode(data), sample_rate=self._codec.sample_rate, num_channels=1
        )
        return self._batch.add(frame) if self._batch is not None else frame

    def _event(self, text: str) -> Frame | None:
        event = parse_event(text, self.format)
        channel = self.channel
        if event.name == "DTMF_END":
            digit = event.text("digit")
            if digit in _KEYS:
                return InputDTMFFrame(KeypadEntry(digit))
            # A-D are real keys on some phones; the keypad processor has no use for them.
            logger.debug(f"asterisk {channel.media.channel_id}: DTMF {digit[:4]!r} ignored")
        elif event.name == "MEDIA_XOFF":
            channel.xoff()
        elif event.name == "MEDIA_XON":
            channel.xon()
        elif event.name == "QUEUE_DRAINED":
            channel.queue_drained()
        elif event.name == "MEDIA_MARK_PROCESSED":
            channel.mark_processed(event.text("correlation_id"))
        elif event.name == "ERROR":
            # Asterisk refused one of our commands: worth a line, not the end of the call.
            error = event.text("error_text").strip()[:100]
            logger.warning(f"asterisk {channel.media.channel_id}: Asterisk error: {error}")
        elif event.name == "MEDIA_START":
            raise AsteriskProtocolError("a second MEDIA_START")
        # MEDIA_BUFFERING_COMPLETED and STATUS answer commands the bot does not send.
        return None

    # -- bot → Asterisk ---------------------------------------------------------------

    async def serialize(self, frame: Frame) -> str | bytes | None:
        if isinstance(frame, InterruptionFrame):
            self._remainder = b""
            self.channel.interrupted()
            return render_command("FLUSH_MEDIA", self.format)
        if isinstance(frame, AudioRawFrame):
            return self._whole_frames(self._codec.encode(frame.audio))
        # EndFrame/CancelFrame: the call control has sent HANGUP when the bot ends the call;
        # otherwise the server closes the socket, which Asterisk takes as a hang-up.
        return None

    def _whole_frames(self, wire: bytes) -> bytes | None:
        if self._remainder:
            wire, self._remainder = self._remainder + wire, b""
        whole = len(wire) - len(wire) % self._frame_bytes
        if whole < len(wire):
            self._remainder = wire[whole:]
        return wire[:whole] or None
