"""The phone line's transport: caller audio goes on from the receive loop, and the output
still gives up on a peer that stopped reading (the deadline Pipecat kept in a per-write task
now sits on the write itself)."""

import asyncio

from pipecat.frames.frames import InputAudioRawFrame, OutputAudioRawFrame
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams

from pipelines.transports.line import LineInputTransport, LineOutputTransport, LineTransport


class _BytesSerializer(FrameSerializer):
    async def serialize(self, frame):
        return b"audio"

    async def deserialize(self, data):
        return None


class _StalledClient:
    """A peer whose socket stopped draining: every send waits forever."""

    is_closing = False
    is_connected = True

    def __init__(self) -> None:
        self.sends = 0

    async def send(self, _payload) -> None:
        self.sends += 1
        await asyncio.Event().wait()


async def test_a_write_to_a_peer_that_stopped_reading_gives_up_at_the_deadline():
    client = _StalledClient()
    params = FastAPIWebsocketParams(audio_out_enabled=True, serializer=_BytesSerializer())
    output = LineOutputTransport(None, client, params, write_timeout_s=0.05)
    errors: list[tuple[str, bool]] = []

    async def push_error(message, exception=None, force_treat_as_permanent=False, **_):
        errors.append((message, force_treat_as_permanent))

    output.push_error = push_error
    frame = OutputAudioRawFrame(audio=b"\x00" * 160, sample_rate=8000, num_channels=1)

    written = await asyncio.wait_for(output.write_audio_frame(frame), timeout=5)

    assert written is False
    assert client.sends == 1
    assert len(errors) == 1
    message, permanent = errors[0]
    assert "stopped reading" in message and permanent


async def test_caller_audio_goes_downstream_from_the_receive_loop():
    params = FastAPIWebsocketParams(audio_in_enabled=True, serializer=_BytesSerializer())
    line_input = LineInputTransport(None, _StalledClient(), params)
    pushed: list = []

    async def push_frame(frame, direction=None):
        pushed.append(frame)

    line_input.push_frame = push_frame
    frame = InputAudioRawFrame(audio=b"\x01\x00" * 480, sample_rate=8000, num_channels=1)
    empty = InputAudioRawFrame(audio=b"", sample_rate=8000, num_channels=1)

    await line_input.push_audio_frame(frame)
    await line_input.push_audio_frame(empty)

    assert pushed == [frame]  # before the call returned: no queue, no audio task


def test_the_transport_hands_out_the_line_input_and_output_with_their_names():
    params = FastAPIWebsocketParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_out_write_timeout_secs=0.25,
        serializer=_BytesSerializer(),
    )

    transport = LineTransport(object(), params, input_name="line-in", output_name="line-out")

    assert isinstance(transport.input(), LineInputTransport)
    assert isinstance(transport.output(), LineOutputTransport)
    assert (transport.input().name, transport.output().name) == ("line-in", "line-out")
    assert transport.input() is transport.input() and transport.output() is transport.output()
    # The deadline moved from Pipecat's per-write task onto the write itself.
    assert params.audio_out_write_timeout_secs is None
    assert transport.output()._write_timeout_s == 0.25
