"""A phone line's WebSocket transport with fewer event-loop passes on both sides.

Caller audio: Pipecat's input transport queues each frame for an audio task that waits on
it with `wait_for` (a task per frame on Python 3.11) only to push it on; with no input
filter that task adds two passes and nothing else, so frames go downstream from the
socket's receive loop instead. On the audio fast lane (pipelines/audio_lane.py) they are not
frames at all: the receive loop hands the bytes to the sink the lane joined it to (the echo
gate's judging), and the output hands each chunk it wrote to the echo reference the same way.

Bot audio: every chunk used to wait for four event-loop passes inside Pipecat's output
transport before it reached the line: the processor's input queue, its process queue, the
media sender's audio queue, and the task `wait_for` starts around each write on Python 3.11.
Each pass waits behind every other call's work, so under load those waits were most of the
turn latency the bot added (BENCHMARKS.md: delta to first write +123 ms p50 at 60 calls).

Here the output transport handles frames in the task that pushes them (the Realtime
service's receive task) and only the media sender's queue remains: it is what paces audio
to the line at playback speed and lets an interruption drop what is queued. The write
deadline a stalled peer needs stays, as an `asyncio.timeout` on the write itself (no task).
"""

import asyncio

from pipecat.frames.frames import (
    BotSpeakingFrame,
    Frame,
    InputAudioRawFrame,
    OutputAudioRawFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.transports.base_transport import BaseTransport
from pipecat.transports.websocket.fastapi import (
    FastAPIWebsocketClient,
    FastAPIWebsocketInputTransport,
    FastAPIWebsocketOutputTransport,
    FastAPIWebsocketParams,
    FastAPIWebsocketTransport,
)
from starlette.websockets import WebSocket

from pipelines.transports.inbound_audio_batch import AudioSink
from pipelines.transports.media_stream_guard import GuardedSerializer


class LineInputTransport(FastAPIWebsocketInputTransport):
    """Pipecat's WebSocket input, pushing caller audio on from the receive loop."""

    def __init__(
        self,
        transport: BaseTransport,
        client: FastAPIWebsocketClient,
        params: FastAPIWebsocketParams,
        **kwargs,
    ) -> None:
        super().__init__(transport, client, params, **kwargs)
        self._line_params = params
        self._caller_sink: AudioSink | None = None

    def send_caller_audio_to(self, sink: AudioSink) -> bool:
        """The audio fast lane: hand caller audio to ``sink`` as plain bytes, no frames.
        False (frames as before) when the line filters its input, which needs frames."""
        params = self._line_params
        if params.audio_in_filter is not None or not params.audio_in_passthrough:
            return False
        self._caller_sink = sink
        serializer = params.serializer
        # A serializer that decodes media itself hands the bytes over without a frame.
        if isinstance(serializer, GuardedSerializer):
            serializer.send_audio_to(self._take_caller_audio)
        return True

    async def push_audio_frame(self, frame: InputAudioRawFrame) -> None:
        params = self._line_params
        if self._caller_sink is not None:
            await self._take_caller_audio(frame.audio, frame.sample_rate, frame.num_channels)
        elif params.audio_in_filter is not None or not params.audio_in_passthrough:
            await super().push_audio_frame(frame)  # Pipecat's audio task runs the filter
        elif params.audio_in_enabled and not self._paused and frame.audio:
            await self.push_frame(frame)

    async def _take_caller_audio(self, audio: bytes, sample_rate: int, num_channels: int) -> None:
        # `_paused` is Pipecat's (set by StopFrame until the next StartFrame) and has no
        # public reader; pinned in pipelines/pipecat_internals.py.
        sink = self._caller_sink
        if sink is None or not audio or self._paused or not self._line_params.audio_in_enabled:
            return
        try:
            await sink(audio, sample_rate, num_channels)
        except Exception as e:
            # As a frame's failure would be reported by the processor it failed in: the call
            # goes on (raising here would end the line's receive loop).
            await self.push_error(error_msg=f"Error handling caller audio: {e}", exception=e)


class LineOutputTransport(FastAPIWebsocketOutputTransport):
    """Pipecat's WebSocket output in direct mode, with the write deadline on the write."""

    def __init__(self, *args, write_timeout_s: float, **kwargs) -> None:
        super().__init__(*args, enable_direct_mode=True, **kwargs)
        self._write_timeout_s = write_timeout_s
        self._written_sink: AudioSink | None = None
        self._speaking_ticks = True

    def send_written_audio_to(self, sink: AudioSink) -> None:
        """The audio fast lane: each chunk written to the line goes to ``sink`` (the echo
        reference) as plain bytes instead of being pushed on downstream as a frame."""
        self._written_sink = sink

    async def take_bot_audio(self, frame: OutputAudioRawFrame) -> None:
        """The audio fast lane: the model's audio straight to the media sender that chunks,
        paces and writes it, where process_frame would send it, without the per-frame
        observer call and event hooks on the way (no observer of ours reads them).
        `_handle_frame` is Pipecat's; pinned in pipelines/pipecat_internals.py."""
        await self._handle_frame(frame)

    def drop_speaking_ticks(self) -> None:
        """The audio fast lane: no BotSpeakingFrame. Pipecat broadcasts one each way every
        200 ms while the bot speaks, a tick of the audio stream that walks every processor
        (queues, tasks, observers) and that no processor on the lane reads; the bot's
        started and stopped speaking frames still go both ways."""
        self._speaking_ticks = False

    async def broadcast_frame(self, frame_cls: type[Frame], **kwargs) -> None:
        if frame_cls is BotSpeakingFrame and not self._speaking_ticks:
            return
        await super().broadcast_frame(frame_cls, **kwargs)

    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM):
        sink = self._written_sink
        if (
            sink is None
            or direction != FrameDirection.DOWNSTREAM
            or not isinstance(frame, OutputAudioRawFrame)
        ):
            await super().push_frame(frame, direction)
            return
        try:
            await sink(frame.audio, frame.sample_rate, frame.num_channels)
        except Exception as e:
            # Raising here would end the media sender's audio task, and with it the bot's voice.
            await self.push_error(error_msg=f"Error handling written audio: {e}", exception=e)

    async def write_audio_frame(self, frame: OutputAudioRawFrame) -> bool:
        try:
            async with asyncio.timeout(self._write_timeout_s):
                return await self.write_line_audio(frame)
        except TimeoutError as exc:
            # What Pipecat does when its own deadline passes: a peer that stopped reading
            # leaves nothing else to fail, so the transport is written off.
            await self.push_error(
                f"{self} timed out after {self._write_timeout_s}s writing audio to the "
                "line; the peer has stopped reading",
                exception=exc,
                force_treat_as_permanent=True,
            )
            return False

    async def write_line_audio(self, frame: OutputAudioRawFrame) -> bool:
        """One chunk to the line, inside the write deadline; lines with their own pacing
        (pipelines/transports/paced_output.py) replace it."""
        return await super().write_audio_frame(frame)


class LineTransport(FastAPIWebsocketTransport):
    """`FastAPIWebsocketTransport` with :class:`LineInputTransport` and
    :class:`LineOutputTransport` as its `input()` and `output()`."""

    def __init__(
        self,
        websocket: WebSocket,
        params: FastAPIWebsocketParams,
        input_name: str | None = None,
        output_name: str | None = None,
    ) -> None:
        write_timeout_s = params.audio_out_write_timeout_secs
        # Pipecat's own deadline would wrap every write in a task; ours replaces it.
        params.audio_out_write_timeout_secs = None
        super().__init__(
            websocket=websocket, params=params, input_name=input_name, output_name=output_name
        )
        # Pipecat keeps the socket's client private (`_client`) and builds its own input and
        # output around it, which `input()`/`output()` below replace; pinned in
        # pipelines/pipecat_internals.py.
        client = self._client
        self._line_client = client
        self._line_input = LineInputTransport(self, client, params, name=input_name)
        self._line_output = self.build_output(client, params, write_timeout_s, output_name)

    def build_output(
        self,
        client: FastAPIWebsocketClient,
        params: FastAPIWebsocketParams,
        write_timeout_s: float,
        name: str | None,
    ) -> LineOutputTransport:
        return LineOutputTransport(self, client, params, write_timeout_s=write_timeout_s, name=name)

    async def send(self, data: str | bytes) -> None:
        """A message of the line's own protocol, outside the pipeline (e.g. Asterisk's HANGUP)."""
        await self._line_client.send(data)

    def input(self) -> LineInputTransport:
        return self._line_input

    def output(self) -> LineOutputTransport:
        return self._line_output
