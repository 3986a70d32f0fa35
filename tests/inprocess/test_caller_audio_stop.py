"""Caller audio ends before the output transport; everything else flows on both ways."""

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    InputAudioRawFrame,
    OutputAudioRawFrame,
    TTSTextFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import run_test

from pipelines.transports.caller_audio_stop import CallerAudioStop


def caller_audio() -> InputAudioRawFrame:
    return InputAudioRawFrame(audio=bytes(960), sample_rate=8000, num_channels=1)


async def test_caller_audio_stops_and_bot_audio_and_text_go_on():
    bot_audio = OutputAudioRawFrame(audio=bytes(1600), sample_rate=8000, num_channels=1)
    text = TTSTextFrame(text="hello", text_type="word")
    await run_test(
        CallerAudioStop(),
        frames_to_send=[caller_audio(), bot_audio, caller_audio(), text],
        expected_down_frames=[OutputAudioRawFrame, TTSTextFrame],
    )


async def test_frames_going_upstream_pass():
    await run_test(
        CallerAudioStop(),
        frames_to_send=[BotStartedSpeakingFrame()],
        frames_to_send_direction=FrameDirection.UPSTREAM,
        expected_up_frames=[BotStartedSpeakingFrame],
    )
