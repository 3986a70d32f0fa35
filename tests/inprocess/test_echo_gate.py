"""The echo gate's state machine through Pipecat's run_test, in both frame directions.

The line's clock is the input: the gate under test advances the shared reference's clock by
20 ms per input frame, as a phone line delivers them, so the tests need no real-time pacing.
"""

import numpy as np
import pytest
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    InputAudioRawFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
)
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import SleepFrame, run_test

from bot.config.echo import EchoGateConfig
from processors.echo.gate import EchoGate, EchoReferenceTap
from processors.echo.reference import EchoReference
from sim.echo.paths import EchoPathSpec, scale_to_dbfs, telephone
from sim.phone.audio import load_wav_8k

RATE, FRAME = 8000, 160
BOT = load_wav_8k("sim/audio/bot_reply_1.wav")[: RATE * 3].astype(float)
CALLER = telephone(scale_to_dbfs(load_wav_8k("sim/audio/caller_thanks.wav").astype(float), -24))


class LineClock:
    now = 0.0


class LineClockedGate(EchoGate):
    def __init__(self, config: EchoGateConfig, reference: EchoReference, clock: LineClock):
        super().__init__(config, reference)
        self._clock = clock

    async def process_frame(self, frame, direction):
        if isinstance(frame, InputAudioRawFrame):
            self._clock.now += len(frame.audio) / 2 / RATE
        await super().process_frame(frame, direction)


def gate_pipeline(mode: str):
    clock = LineClock()
    reference = EchoReference(clock=lambda: clock.now)
    gate = LineClockedGate(EchoGateConfig(mode=mode), reference, clock)
    return Pipeline([EchoReferenceTap(reference), gate]), gate


def pcm(samples: np.ndarray) -> bytes:
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def input_frames(signal: np.ndarray) -> list[InputAudioRawFrame]:
    return [
        InputAudioRawFrame(audio=pcm(signal[i : i + FRAME]), sample_rate=RATE, num_channels=1)
        for i in range(0, signal.size - FRAME + 1, FRAME)
    ]


def bot_audio() -> list:
    """The bot's reply, as the output transport pushes it after writing it to the line."""
    chunks = [
        OutputAudioRawFrame(audio=pcm(BOT[i : i + 4 * FRAME]), sample_rate=RATE, num_channels=1)
        for i in range(0, BOT.size, 4 * FRAME)
    ]
    return [*chunks, SleepFrame(0.2)]  # audio (data frames) reaches the tap before the input


def echo_of_bot(total_s: float) -> np.ndarray:
    padded = np.concatenate([BOT, np.zeros(int(total_s * RATE) - BOT.size)])
    return EchoPathSpec(delay_ms=120, erl_db=12).apply(padded)


def levels(frames) -> np.ndarray:
    audio = [np.frombuffer(f.audio, dtype="<i2").astype(float) for f in frames]
    return np.array([np.sqrt(np.mean(a**2)) for a in audio])


def batched(frames: list[InputAudioRawFrame], n: int) -> list[InputAudioRawFrame]:
    """What a line batching n provider messages per frame delivers (AUDIO_IN_BATCH_MS)."""
    return [
        InputAudioRawFrame(
            audio=b"".join(f.audio for f in frames[i : i + n]), sample_rate=RATE, num_channels=1
        )
        for i in range(0, len(frames), n)
    ]


async def run_input(mode: str, near: np.ndarray, with_bot: bool = True, batch: int = 1):
    pipeline, gate = gate_pipeline(mode)
    sent = batched(input_frames(near), batch)
    originals = [f.audio for f in sent]
    down, _ = await run_test(pipeline, frames_to_send=[*(bot_audio() if with_bot else []), *sent])
    out = [f for f in down if isinstance(f, InputAudioRawFrame)]
    return out, originals, gate


def passed_pieces(out: list[InputAudioRawFrame], near: np.ndarray) -> list[bool]:
    audio, sent = b"".join(f.audio for f in out), pcm(near)
    step = 2 * FRAME
    return [audio[i : i + step] == sent[i : i + step] for i in range(0, len(audio), step)]


@pytest.mark.parametrize("batch", [3, 5])
@pytest.mark.parametrize("barge_in", [False, True])
async def test_batched_input_gets_the_verdicts_of_20_ms_frames(batch, barge_in):
    near = echo_of_bot(4.0)
    if barge_in:
        onset = int(1.5 * RATE)
        near[onset : onset + CALLER.size] += CALLER
    out_20ms, _, gate_20ms = await run_input("reference", near)
    out, originals, gate = await run_input("reference", near, batch=batch)
    # Every sample comes out once, in order, and each 20 ms either passes as it was or is
    # replaced by comfort silence exactly where it was with 20 ms frames.
    assert sum(len(f.audio) for f in out) == sum(len(o) for o in originals)
    assert passed_pieces(out, near) == passed_pieces(out_20ms, near)
    assert gate.counters == gate_20ms.counters
    # A batched line stays batched: the gate never splits a batch back into more frames.
    assert len(out) <= len(originals)
    assert gate.counters.openings == int(barge_in)
    assert gate.counters.echo_frames > 50


async def test_bot_silent_everything_passes_untouched():
    near = np.concatenate([CALLER, np.zeros(RATE)])
    out, originals, gate = await run_input("reference", near, with_bot=False)
    assert [f.audio for f in out] == originals
    assert gate.counters.state_changes == 0


async def test_echo_becomes_comfort_silence_of_the_same_length():
    out, originals, gate = await run_input("reference", echo_of_bot(4.0))
    assert len(out) == len(originals), "no frame dropped or added"
    assert all(len(f.audio) == len(o) for f, o in zip(out, originals, strict=True))
    while_bot_spoke = levels(out)[: BOT.size // FRAME]
    assert levels(input_frames(echo_of_bot(4.0)))[: BOT.size // FRAME].max() > 1000
    # Comfort noise is at most -60 dBFS RMS (~33); the echo itself is above 1000.
    assert while_bot_spoke.max() < 50, "echo leaked through"
    assert gate.counters.openings == 0
    assert gate.counters.echo_frames > 100
    assert gate.state == "idle", "after the bot and its tail the gate stands down"


async def test_barge_in_opens_with_pre_roll_and_keeps_order():
    near = echo_of_bot(4.0)
    onset = int(1.5 * RATE)
    near[onset : onset + CALLER.size] += CALLER
    out, originals, gate = await run_input("reference", near)
    assert len(out) == len(originals)
    assert gate.counters.openings == 1
    passed = [i for i, (f, o) in enumerate(zip(out, originals, strict=True)) if f.audio == o]
    first_speech = onset // FRAME + 2  # the clip's first syllable starts ~40 ms in
    # Frames before the onset pass too (pre-roll), and the caller's speech is intact after it.
    assert min(i for i in passed if i > onset // FRAME - 10) <= first_speech
    assert set(range(first_speech, first_speech + 40)) <= set(passed)


async def test_barge_in_passes_on_a_line_without_echo():
    # A headset: the bot talks, nothing comes back, the caller interrupts 1.5 s in.
    near = np.zeros(4 * RATE)
    onset = int(1.5 * RATE)
    near[onset : onset + CALLER.size] += CALLER
    out, originals, gate = await run_input("reference", near)
    assert gate.counters.openings == 1
    first_speech = onset // FRAME + 2
    passed = {i for i, (f, o) in enumerate(zip(out, originals, strict=True)) if f.audio == o}
    assert set(range(first_speech + 5, first_speech + 40)) <= passed


async def test_mute_while_speaking_drops_the_barge_in_too():
    near = echo_of_bot(4.0)
    onset = int(1.5 * RATE)
    near[onset : onset + CALLER.size] += CALLER
    out, originals, gate = await run_input("mute_while_speaking", near)
    assert len(out) == len(originals)
    assert levels(out)[: BOT.size // FRAME].max() == 0
    assert gate.counters.openings == 0


async def test_off_passes_the_echo():
    out, originals, _ = await run_input("off", echo_of_bot(4.0))
    assert [f.audio for f in out] == originals


async def test_upstream_frames_pass_through_unchanged():
    pipeline, gate = gate_pipeline("reference")
    frames = [BotStartedSpeakingFrame(), BotStoppedSpeakingFrame()]
    await run_test(
        pipeline,
        frames_to_send=frames,
        frames_to_send_direction=FrameDirection.UPSTREAM,
        expected_up_frames=[BotStartedSpeakingFrame, BotStoppedSpeakingFrame],
    )
    assert gate.state == "idle"


async def test_interruption_erases_the_audio_the_caller_will_not_hear():
    pipeline, gate = gate_pipeline("reference")
    # The caller talks after an interruption dropped the bot's queued reply: nothing to gate.
    sent = input_frames(np.concatenate([CALLER, np.zeros(RATE // 2)]))
    originals = [f.audio for f in sent]
    down, _ = await run_test(
        pipeline, frames_to_send=[*bot_audio(), InterruptionFrame(), SleepFrame(0.1), *sent]
    )
    out = [f for f in down if isinstance(f, InputAudioRawFrame)]
    assert [f.audio for f in out] == originals
    assert gate.counters.echo_frames == 0
    assert any(isinstance(f, InterruptionFrame) for f in down)


async def run_bytes(near: np.ndarray, batch: int) -> tuple[bytes, EchoGate]:
    """The audio fast lane's way in: the line hands the gate bytes, the gate hands its sink
    bytes; no frame anywhere."""
    clock = LineClock()
    reference = EchoReference(clock=lambda: clock.now)
    gate = EchoGate(EchoGateConfig(mode="reference"), reference)
    tap = EchoReferenceTap(reference)
    for chunk in bot_audio()[:-1]:  # written to the line before the caller's input arrives
        await tap.played(chunk.audio, chunk.sample_rate, chunk.num_channels)
    out: list[bytes] = []

    async def model_input(audio: bytes, sample_rate: int, num_channels: int) -> None:
        assert (sample_rate, num_channels) == (RATE, 1)
        out.append(audio)

    gate.send_audio_to(model_input)
    for frame in batched(input_frames(near), batch):
        clock.now += len(frame.audio) / 2 / RATE
        await gate.take_caller_audio(frame.audio, RATE, 1)
    return b"".join(out), gate


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("barge_in", [False, True])
async def test_the_fast_lane_gate_silences_echo_exactly_as_the_frame_gate(batch, barge_in):
    near = echo_of_bot(4.0)
    if barge_in:
        onset = int(1.5 * RATE)
        near[onset : onset + CALLER.size] += CALLER
    frames_out, _, frame_gate = await run_input("reference", near, batch=batch)
    audio, gate = await run_bytes(near, batch)
    # The same judging: the model hears the same samples, echo replaced by the same comfort
    # noise, and a barge-in passes at the same place.
    assert audio == b"".join(f.audio for f in frames_out)
    assert gate.counters == frame_gate.counters
    assert gate.counters.echo_frames > 50
    assert gate.counters.openings == int(barge_in)
