"""Caller audio in larger frames: one pipeline frame per AUDIO_IN_BATCH_MS instead of one per
provider message.

Phone providers send 20 ms per message. Every frame then costs the same fixed Pipecat work at
every hop (a queue and a task per processor, observer hooks, an event on the model's socket),
which is most of a live call's CPU; the audio itself is cheap. Joining five messages into one
100 ms frame cuts that work five-fold. The price is latency: the model hears the caller's last
syllable up to one batch later (bench/load and BENCHMARKS.md measure both sides).
"""

from collections.abc import Awaitable, Callable

from pipecat.frames.frames import InputAudioRawFrame

PROVIDER_FRAME_MS = 20

# Where caller audio goes without frames on the audio fast lane (pipelines/audio_lane.py):
# called with (16-bit PCM, sample rate, channels).
AudioSink = Callable[[bytes, int, int], Awaitable[None]]


class InboundAudioBatch:
    """Collects consecutive caller audio frames until ``batch_ms`` of audio is there."""

    def __init__(self, batch_ms: int) -> None:
        self.batch_ms = batch_ms
        self._parts: list[bytes] = []
        self._bytes = 0

    def add(self, frame: InputAudioRawFrame) -> InputAudioRawFrame | None:
        """The batch, once this frame completes it; ``None`` while it is still filling."""
        if self.batch_ms <= PROVIDER_FRAME_MS:
            return frame
        audio = self.add_audio(frame.audio, frame.sample_rate, frame.num_channels)
        if audio is None:
            return None
        batch = InputAudioRawFrame(
            audio=audio, sample_rate=frame.sample_rate, num_channels=frame.num_channels
        )
        batch.transport_source = frame.transport_source
        return batch

    def add_audio(self, audio: bytes, sample_rate: int, num_channels: int) -> bytes | None:
        """:meth:`add` for audio without a frame (the audio fast lane)."""
        if self.batch_ms <= PROVIDER_FRAME_MS:
            return audio
        self._parts.append(audio)
        self._bytes += len(audio)
        if self._bytes < sample_rate * num_channels * 2 * self.batch_ms // 1000:
            return None
        batch = b"".join(self._parts) if len(self._parts) > 1 else self._parts[0]
        self._parts, self._bytes = [], 0
        return batch
