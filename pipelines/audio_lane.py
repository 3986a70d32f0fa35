"""The audio fast lane: the two ends of a call's audio, joined around the processors that
do not want it (pipelines/composer.py decides when).

On a phone call the audio is 50 frames a second each way, and every processor a frame
passes costs it the same fixed Pipecat work: an observer call, event hooks, and for a
queued processor two queues and two tasks. Control frames are few. So when no processor
between the line and the model wants audio:

- :class:`CallerAudioInlet`, right after the echo gate, hands caller audio to the Realtime
  service's audio input and pushes it no further (the user aggregator, the ``before_llm``
  processors and the service's own queue are skipped);
- the service hands its audio frames straight to the output transport
  (:meth:`FastLaneService.send_audio_out_to`), which still chunks, paces and writes them,
  says when the bot starts and stops speaking, and pushes each written chunk on to the
  echo reference tap;
- :class:`BotAudioStop`, after the tap, keeps written chunks from the assistant aggregator,
  which has no use for them.

Frames other than audio, in either direction, take the whole pipeline as before.
"""

from typing import Protocol, runtime_checkable

from pipecat.frames.frames import Frame, InputAudioRawFrame, OutputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor


@runtime_checkable
class FastLaneService(Protocol):
    """A model service with a direct audio input and a switchable audio output."""

    async def send_caller_audio(self, frame: InputAudioRawFrame) -> None: ...

    def send_audio_out_to(self, output: FrameProcessor) -> None: ...


class CallerAudioInlet(FrameProcessor):
    """Caller audio into the model's audio input; every other frame passes."""

    needs_audio = True  # it is the lane's own end

    def __init__(self, service: FastLaneService) -> None:
        # Direct mode, as Pipecat's own quick filters: no queue and task of its own.
        super().__init__(name="caller-audio-inlet", enable_direct_mode=True)
        self._service = service

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            await self._service.send_caller_audio(frame)
            return
        await self.push_frame(frame, direction)


class BotAudioStop(FrameProcessor):
    """Written bot audio ends here, after the echo reference tap; every other frame passes."""

    needs_audio = True  # it is the lane's own end

    def __init__(self) -> None:
        super().__init__(name="bot-audio-stop", enable_direct_mode=True)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, OutputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            return
        await self.push_frame(frame, direction)
