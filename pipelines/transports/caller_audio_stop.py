"""Caller audio ends before the output transport.

Pipecat's Realtime service pushes every frame on after handling it, caller audio included,
so each caller frame would also queue through the output transport, the echo reference tap,
the assistant aggregator and the pipeline's sinks — none of which use it. On a phone call
that was about half of all frame hops. Processors placed after the model (``after_llm``, tool
processors) still see caller audio, as Pipecat pipelines expect (e.g. audio recorders).
"""

from pipecat.frames.frames import Frame, InputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor


class CallerAudioStop(FrameProcessor):
    def __init__(self) -> None:
        # Direct mode, as Pipecat's own quick filters: no queue and task of its own.
        super().__init__(name="caller-audio-stop", enable_direct_mode=True)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            return
        await self.push_frame(frame, direction)
