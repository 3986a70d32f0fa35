"""The echo gate's input clock: caller audio that queued up while the bot was busy at call
start is placed where it was spoken, not piled onto the moment it was read.

The end-to-end echo call's start-of-call defect (docs/echo_gate.md): the caller's first
second arrives in one burst after the greeting has started; judged all at "now", the quiet
frames and the echo are set against the wrong stretch of the greeting, and the echo passes
as a barge-in. No real-time waiting: a fake wall clock.
"""

from dataclasses import dataclass

import numpy as np
from pipecat.frames.frames import DataFrame, Frame, InputAudioRawFrame, OutputAudioRawFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.tests.utils import run_test

from bot.config.echo import EchoGateConfig
from processors.echo.gate import EchoGate, EchoReferenceTap
from processors.echo.reference import EchoReference
from sim.echo.paths import EchoPathSpec
from sim.phone.audio import load_wav_8k

RATE, FRAME = 8000, 160
GREETING = load_wav_8k("sim/audio/bot_reply_1.wav")[: RATE * 2].astype(float)


@dataclass
class WallClockAt(DataFrame):
    seconds: float = 0.0


class WallClock(FrameProcessor):
    """Moves the fake wall clock when told; input frames in between arrive in a burst."""

    def __init__(self) -> None:
        super().__init__(enable_direct_mode=True)
        self.now = 0.0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, WallClockAt):
            self.now = frame.seconds
            return
        await self.push_frame(frame, direction)


def pcm(samples: np.ndarray) -> bytes:
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


async def test_a_backlog_at_call_start_is_judged_where_it_was_spoken():
    clock = WallClock()
    reference = EchoReference(clock=lambda: clock.now)
    gate = EchoGate(EchoGateConfig(mode="reference"), reference)
    # The caller's first 1.5 s: a quiet line, then from 1.0 s the greeting's echo (120 ms,
    # 12 dB down) as the phone played it.
    spoken = np.random.default_rng(1).normal(0, 30, int(1.5 * RATE))
    echo = EchoPathSpec(delay_ms=120, erl_db=12).apply(GREETING)[: RATE // 2]
    spoken[RATE:] += echo
    backlog = [
        InputAudioRawFrame(audio=pcm(spoken[i : i + FRAME]), sample_rate=RATE, num_channels=1)
        for i in range(0, spoken.size, FRAME)
    ]
    greeting = [
        OutputAudioRawFrame(audio=pcm(GREETING[i : i + 800]), sample_rate=RATE, num_channels=1)
        for i in range(0, GREETING.size, 800)
    ]
    # The greeting starts playing 1.0 s into the call; the bot only gets to the caller's
    # audio at 1.5 s, and everything queued meanwhile arrives at once.
    await run_test(
        Pipeline([clock, EchoReferenceTap(reference), gate]),
        frames_to_send=[WallClockAt(seconds=1.0), *greeting, WallClockAt(seconds=1.5), *backlog],
    )
    # Judged where they were spoken, the quiet second meets no bot audio and the echo meets
    # its own source: the echo path is found (120 ms) and the echo never opens the gate.
    # Piled onto the greeting's first words instead, the echo is misaligned with what the
    # caller heard and passes as a barge-in.
    assert gate.counters.openings == 0
    assert abs(gate._core.detector.delay / RATE * 1000 - 120) <= 5
