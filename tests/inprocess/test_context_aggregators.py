"""The Realtime call's context aggregators pass frames on inline: a frame pushed into either
half has reached the next processor when the push returns (no queue, no event-loop pass)."""

from pipecat.frames.frames import Frame, InputAudioRawFrame, OutputAudioRawFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.tests.utils import run_test

from pipelines.context_aggregators import realtime_context_aggregators


class _Probe(FrameProcessor):
    def __init__(self) -> None:
        super().__init__(enable_direct_mode=True)
        self.seen: list[Frame] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        self.seen.append(frame)
        await self.push_frame(frame, direction)


class _Pusher(FrameProcessor):
    """Notes, right after each audio push returns, whether the probe already has it."""

    def __init__(self, probe: _Probe) -> None:
        super().__init__(enable_direct_mode=True)
        self._probe = probe
        self.arrived_inline: list[bool] = []

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)
        if isinstance(frame, (InputAudioRawFrame, OutputAudioRawFrame)):
            self.arrived_inline.append(frame in self._probe.seen)


async def _pushes_inline(half: FrameProcessor, frame: Frame) -> list[bool]:
    probe = _Probe()
    pusher = _Pusher(probe)
    await run_test(Pipeline([pusher, half, probe]), frames_to_send=[frame, frame])
    return pusher.arrived_inline


async def test_caller_audio_passes_the_user_half_inline():
    user, _ = realtime_context_aggregators(LLMContext())
    audio = InputAudioRawFrame(audio=b"\x00" * 960, sample_rate=8000, num_channels=1)
    assert await _pushes_inline(user, audio) == [True, True]


async def test_bot_audio_passes_the_assistant_half_inline():
    _, assistant = realtime_context_aggregators(LLMContext())
    audio = OutputAudioRawFrame(audio=b"\x00" * 800, sample_rate=8000, num_channels=1)
    assert await _pushes_inline(assistant, audio) == [True, True]
