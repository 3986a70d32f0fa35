"""The audio fast lane: the two ends of a call's audio, joined around the processors that
do not want it (pipelines/composer.py decides when).

On a phone call the audio is 50 frames a second each way, and every processor a frame
passes costs it the same fixed Pipecat work: an observer call, event hooks, and for a
queued processor two queues and two tasks. Control frames are few. So when no processor
between the line and the model wants audio:

- caller audio is not made into frames at all (:func:`join_caller_audio`): the line's
  receive loop hands each batch as bytes to the echo gate's judging, and the gate what it
  lets through (echo replaced by comfort noise) to the Realtime service's audio input: three
  plain calls. Where a stage cannot take bytes, the audio stays frames as far as
  :class:`CallerAudioInlet`, right after the echo gate, which hands it to the same input
  (the user aggregator, the ``before_llm`` processors and the service's own queue are
  skipped either way);
- the service hands its audio frames straight to the output transport
  (:func:`join_bot_audio`), which still chunks, paces and writes them, says when the bot
  starts and stops speaking, and hands each written chunk as bytes to the echo reference
  (or, where that cannot take bytes, pushes it on to the tap as a frame, and
  :class:`BotAudioStop` after it keeps written chunks from the assistant aggregator).

Frames other than audio, in either direction, take the whole pipeline as before.
"""

from typing import Protocol, runtime_checkable

from pipecat.frames.frames import Frame, InputAudioRawFrame, OutputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from pipelines.realtime.lane_audio import ServiceAudioLane
from pipelines.transports.inbound_audio_batch import AudioSink
from pipelines.transports.line import LineInputTransport, LineOutputTransport


@runtime_checkable
class FastLaneService(Protocol):
    """A model service with a direct audio input and a switchable audio output."""

    audio_lane: ServiceAudioLane


@runtime_checkable
class CallerAudioStage(Protocol):
    """A processor that can take caller audio as plain bytes (the echo gate): what it lets
    through goes to the sink it is given, not down the pipeline."""

    def send_audio_to(self, sink: AudioSink | None) -> None: ...

    async def take_caller_audio(
        self, audio: bytes, sample_rate: int, num_channels: int
    ) -> None: ...


@runtime_checkable
class PlayedAudioStage(Protocol):
    """A processor after the output that can take written bot audio as plain bytes (the echo
    reference tap)."""

    async def played(self, audio: bytes, sample_rate: int, num_channels: int) -> None: ...


def join_caller_audio(
    line: LineInputTransport, stages: list[FrameProcessor], service: FastLaneService
) -> bool:
    """Caller audio from the line through ``stages`` into the model's input as plain calls on
    bytes: no frame, queue, observer or event hook per chunk. False (the audio stays frames,
    down to :class:`CallerAudioInlet`) when a stage or the line cannot."""
    if not all(isinstance(stage, CallerAudioStage) for stage in stages):
        return False
    sink: AudioSink = service.audio_lane.take_caller_audio
    for stage in reversed(stages):
        assert isinstance(stage, CallerAudioStage)
        stage.send_audio_to(sink)
        sink = stage.take_caller_audio
    if line.send_caller_audio_to(sink):
        return True
    for stage in stages:  # the line sends frames: the stages push theirs on again
        assert isinstance(stage, CallerAudioStage)
        stage.send_audio_to(None)
    return False


def join_bot_audio(
    service: FastLaneService, output: LineOutputTransport, stages: list[FrameProcessor]
) -> bool:
    """The model's audio frames straight into the output transport; the chunks it writes to
    the line straight to ``stages`` when they all take plain bytes (True), else pushed on as
    frames to :class:`BotAudioStop` (False)."""
    service.audio_lane.send_audio_out_to(output)
    output.drop_speaking_ticks()
    played = [stage for stage in stages if isinstance(stage, PlayedAudioStage)]
    if len(played) != len(stages) or not played:
        return False
    if len(played) == 1:
        output.send_written_audio_to(played[0].played)
        return True

    async def fan_out(audio: bytes, sample_rate: int, num_channels: int) -> None:
        for stage in played:
            await stage.played(audio, sample_rate, num_channels)

    output.send_written_audio_to(fan_out)
    return True


class CallerAudioInlet(FrameProcessor):
    """Caller audio frames into the model's audio input; every other frame passes. (Caller
    audio joined by :func:`join_caller_audio` never comes here as frames.)"""

    needs_audio = True  # it is the lane's own end

    def __init__(self, service: FastLaneService) -> None:
        # Direct mode, as Pipecat's own quick filters: no queue and task of its own.
        super().__init__(name="caller-audio-inlet", enable_direct_mode=True)
        self._service = service

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            await self._service.audio_lane.take_caller_audio(
                frame.audio, frame.sample_rate, frame.num_channels
            )
            return
        await self.push_frame(frame, direction)


class BotAudioStop(FrameProcessor):
    """Written bot audio ends here, after the echo reference tap; every other frame passes.
    (Chunks handed on by :func:`join_bot_audio` never come here as frames.)"""

    needs_audio = True  # it is the lane's own end

    def __init__(self) -> None:
        super().__init__(name="bot-audio-stop", enable_direct_mode=True)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, OutputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            return
        await self.push_frame(frame, direction)
