"""A small user-style processor placed by dotted path in end-to-end tests
(``tests.helpers.sample_processors:FrameCounter``): it counts the audio it sees going
downstream, which tells where in the pipeline it ran."""

from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    OutputAudioRawFrame,
)
from pipecat.processors.frame_processor import FrameDirection

from processors.base import ProcessorContext, ProcessorOptions, ProfileProcessor


class CounterOptions(ProcessorOptions):
    tag: str


class FrameCounter(ProfileProcessor):
    Options = CounterOptions

    def __init__(self, options: CounterOptions, context: ProcessorContext, **kwargs):
        super().__init__(options, context, **kwargs)
        self._tag = options.tag
        self._caller_audio = 0
        self._bot_audio = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            self._caller_audio += 1
        elif isinstance(frame, OutputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            self._bot_audio += 1
        elif isinstance(frame, (EndFrame, CancelFrame)):
            self.note(f"{self._tag} caller_audio={self._caller_audio} bot_audio={self._bot_audio}")
        await self.push_frame(frame, direction)
