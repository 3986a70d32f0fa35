"""The Realtime service's ends of the audio fast lane (pipelines/audio_lane.py), and the
recorded prompts it plays as the bot's speech.

Held by ``RealtimeService`` as ``audio_lane``: caller audio comes in as plain bytes
(:meth:`ServiceAudioLane.take_caller_audio`), and the model's audio frames go straight into the
output transport instead of down the pipeline (:meth:`ServiceAudioLane.push_frame`, which the
service's own ``push_frame`` hands every frame to).
"""

from collections.abc import Awaitable, Callable
from typing import Protocol

from pipecat.frames.frames import (
    Frame,
    OutputAudioRawFrame,
    TTSAudioRawFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection

PROMPT_CHUNK_S = 0.1  # a played prompt goes out in frames this long, as model audio does

PushFrame = Callable[[Frame, FrameDirection], Awaitable[None]]


class BotAudioOutput(Protocol):
    """Where the model's audio frames go on the fast lane: the line's output transport."""

    async def take_bot_audio(self, frame: OutputAudioRawFrame) -> None: ...


class ServiceAudioLane:
    """Where the service's audio comes from and goes on the fast lane."""

    def __init__(
        self,
        *,
        push_on: PushFrame,
        append: Callable[[bytes, int], Awaitable[None]],
        input_paused: Callable[[], bool],
    ) -> None:
        """``push_on``: the service's push down the pipeline (Pipecat's, past the service's
        override); ``append(pcm, sample_rate)``: caller audio into the model's input buffer;
        ``input_paused``: Pipecat's audio input switch."""
        self._push_on = push_on
        self._append = append
        self._input_paused = input_paused
        self._out: BotAudioOutput | None = None

    def send_audio_out_to(self, output: BotAudioOutput) -> None:
        """Hand the model's audio frames to ``output`` (the line's output transport, inline)
        instead of pushing them past every processor after the service."""
        self._out = output

    async def take_caller_audio(self, audio: bytes, sample_rate: int, num_channels: int) -> None:
        """Caller audio straight from the line (through the echo gate), as if an input frame of
        it had come down the pipeline. Lines are mono: ``num_channels`` is 1."""
        if not self._input_paused():
            await self._append(audio, sample_rate)

    async def push_frame(self, frame: Frame, direction: FrameDirection) -> None:
        out = self._out
        if (
            out is not None
            and isinstance(frame, OutputAudioRawFrame)
            and direction == FrameDirection.DOWNSTREAM
        ):
            await out.take_bot_audio(frame)
            return
        await self._push_on(frame, direction)

    async def play_prompt(self, audio: bytes, sample_rate: int) -> None:
        """Play recorded 16-bit mono audio to the caller as the bot's speech; no session is
        needed (the rate-limit fallback line)."""
        step = int(sample_rate * PROMPT_CHUNK_S) * 2
        down = FrameDirection.DOWNSTREAM
        # Down the whole pipeline even on the audio fast lane: played as the call starts, the
        # lane's shortcut could reach the output before its StartFrame and be dropped there.
        await self._push_on(TTSStartedFrame(), down)
        for start in range(0, len(audio), step):
            chunk = audio[start : start + step]
            await self._push_on(TTSAudioRawFrame(chunk, sample_rate, num_channels=1), down)
        await self._push_on(TTSStoppedFrame(), down)
