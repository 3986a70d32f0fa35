"""The Asterisk lines' paced output: at real time with a bounded lead, and never a chunk
from before a barge-in, even one Pipecat's audio task had already taken."""

import time

from pipecat.frames.frames import OutputAudioRawFrame
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams

from pipelines.transports.asterisk.audiosocket import AudioSocketSerializer
from pipelines.transports.asterisk.codecs import slin_codec
from pipelines.transports.paced_output import NoHooks, PacedOutputTransport


class _Client:
    is_closing = False
    is_connected = True

    def __init__(self) -> None:
        self.sent: list[tuple[float, bytes]] = []

    async def send(self, payload) -> None:
        self.sent.append((time.monotonic(), payload))


class _Hooks(NoHooks):
    def __init__(self) -> None:
        self.wire_bytes: list[int] = []
        self.interruptions = 0

    async def written(self, wire_bytes: int) -> None:
        self.wire_bytes.append(wire_bytes)

    def interrupted(self) -> None:
        self.interruptions += 1


def frame_20ms() -> OutputAudioRawFrame:
    return OutputAudioRawFrame(audio=b"\x01\x00" * 160, sample_rate=8000, num_channels=1)


def output_under_test(hooks):
    client = _Client()
    params = FastAPIWebsocketParams(
        audio_out_enabled=True, serializer=AudioSocketSerializer(slin_codec(8000))
    )
    output = PacedOutputTransport(
        None, client, params, write_timeout_s=1.0, lead_s=0.02, hooks=hooks
    )
    return output, client


async def test_audio_goes_out_at_real_time_at_most_two_frames_ahead():
    hooks = _Hooks()
    output, client = output_under_test(hooks)
    started = time.monotonic()
    for _ in range(10):
        assert await output.write_audio_frame(frame_20ms())
    elapsed = time.monotonic() - started
    # Ten 20 ms frames: the last is written when ~20 ms of the ninth is still unplayed.
    assert 0.15 <= elapsed < 0.4
    assert len(client.sent) == 10 and hooks.wire_bytes == [323] * 10
    for i, (at, _) in enumerate(client.sent):
        assert at - started <= i * 0.02 + 0.02 + 0.01  # never more than two frames early


async def test_chunks_older_than_a_barge_in_are_never_written():
    hooks = _Hooks()
    output, client = output_under_test(hooks)
    taken_before = frame_20ms()  # Pipecat's audio task already holds it
    output.barge_in()  # what an InterruptionFrame does, before Pipecat's own handling
    assert await output.write_audio_frame(taken_before) is False
    assert await output.write_audio_frame(frame_20ms()) is True
    assert len(client.sent) == 1 and output.stale_chunks_dropped == 1
    assert hooks.interruptions == 1
