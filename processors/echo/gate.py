"""The echo gate: the bot never interrupts itself, and a real barge-in still gets through.

Two processors share one :class:`EchoReference` per call:

- :class:`EchoReferenceTap`, right *after* the output transport: the output transport pushes
  each audio chunk downstream once it has been written to the line, at the rate it was
  written, already at the line's sample rate. That is the bot's audio *as sent* (interrupted
  audio never reaches it); the reference turns it into *as heard* by scheduling it on the
  caller's playout timeline.
- :class:`EchoGate`, right after the input transport: judges every input frame against what
  the caller was hearing (see ``processors/echo/state.py`` for the states) and replaces echo
  by comfort silence of the same length, so the Realtime input buffer's timing never skips.

Build both with :func:`create_echo_gate`; ``docs/echo_gate.md`` explains the choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

import numpy as np
from loguru import logger
from pipecat.audio.utils import create_file_resampler, create_stream_resampler
from pipecat.frames.frames import (
    CancelFrame,
    EndFrame,
    Frame,
    InputAudioRawFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
    StartFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from bot.config.echo import EchoGateConfig
from processors.echo.detector import FRAME, db_to_power
from processors.echo.reference import ANALYSIS_RATE, EchoReference
from processors.echo.state import GateCore, GateCounters

_COMFORT_MAX_DBFS = -60.0  # comfort noise never reaches a level any VAD calls speech
# Unit-power noise, read-only and shared by every call (each keeps its own read position).
_COMFORT_NOISE = np.random.default_rng(0).standard_normal(ANALYSIS_RATE * 4).astype(np.float32)
_COMFORT_NOISE.flags.writeable = False
_RESYNC = ANALYSIS_RATE * 3 // 10  # input this far off the wall clock re-anchors (300 ms)


@dataclass(frozen=True)
class _Piece:
    """20 ms of an input frame: the gate judges, holds and releases audio in these."""

    frame: InputAudioRawFrame
    audio: bytes
    of: int  # how many pieces the frame was cut into


def _split(frame: InputAudioRawFrame, blocks: int) -> list[_Piece]:
    """``blocks`` consecutive pieces of the frame's audio, cut at sample boundaries."""
    if blocks == 1:
        return [_Piece(frame, frame.audio, 1)]
    width = 2 * frame.num_channels
    samples = len(frame.audio) // width
    cuts = [round(i * samples / blocks) * width for i in range(blocks + 1)]
    return [_Piece(frame, frame.audio[cuts[i] : cuts[i + 1]], blocks) for i in range(blocks)]


def _samples(audio: bytes, channels: int) -> np.ndarray:
    pcm = np.frombuffer(audio, dtype="<i2")
    if channels > 1:
        pcm = pcm[: pcm.size // channels * channels].reshape(-1, channels)[:, 0]
    # float64: the detector's own precision, so it does not convert every frame again.
    return pcm.astype(np.float64)


class EchoReferenceTap(FrameProcessor):
    """Feeds the bot's played audio into the shared reference; passes every frame on."""

    def __init__(self, reference: EchoReference, **kwargs) -> None:
        # Direct mode (as Pipecat's own quick filters): no queue and task of its own per frame.
        super().__init__(enable_direct_mode=True, **kwargs)
        self._reference = reference
        self._resampler = create_stream_resampler()

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, OutputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            audio = frame.audio
            if frame.sample_rate != ANALYSIS_RATE:
                audio = await self._resampler.resample(audio, frame.sample_rate, ANALYSIS_RATE)
            self._reference.play(_samples(audio, frame.num_channels))
        elif isinstance(frame, InterruptionFrame):
            self._reference.interrupt()
        await self.push_frame(frame, direction)


class EchoGate(FrameProcessor):
    """Passes the caller's audio, replacing the bot's echo with comfort silence."""

    def __init__(self, config: EchoGateConfig, reference: EchoReference, **kwargs) -> None:
        super().__init__(enable_direct_mode=True, **kwargs)
        self.config = config
        self._reference = reference
        self._core: GateCore[_Piece] = GateCore(config.mode, config.thresholds())
        self._near_end: int | None = None
        self._last_arrival: int | None = None
        self._resampler = create_file_resampler()
        self._comfort = _COMFORT_NOISE
        self._comfort_pos = 0
        self._warned_frame_size = False

    @property
    def counters(self) -> GateCounters:
        return self._core.counters

    @property
    def state(self) -> str:
        return self._core.state

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            await self._gate(frame)
        elif isinstance(frame, StartFrame):
            # The line starts sending as the call starts: input is counted from here.
            self._near_end = self._reference.now_index()
            await self.push_frame(frame, direction)
        elif isinstance(frame, (EndFrame, CancelFrame)):
            await self._emit(self._core.flush())
            self._log_summary()
            await self.push_frame(frame, direction)
        else:
            await self.push_frame(frame, direction)

    async def _gate(self, frame: InputAudioRawFrame) -> None:
        if self.config.mode == "off":
            await self.push_frame(frame)
            return
        audio = frame.audio
        if frame.sample_rate != ANALYSIS_RATE:
            audio = await self._resampler.resample(audio, frame.sample_rate, ANALYSIS_RATE)
        near = _samples(audio, frame.num_channels)
        blocks = max(1, round(near.size / FRAME))
        if near.size != blocks * FRAME:
            # Lines deliver 20 ms frames (or batches of them); anything else is judged in
            # 20 ms blocks stretched over the frame.
            if not self._warned_frame_size:
                logger.warning(
                    f"{self}: expects multiples of 20 ms, got {near.size} samples at 8 kHz"
                )
                self._warned_frame_size = True
            near = np.resize(near, blocks * FRAME)
        end = self._input_clock(near.size)
        far = self._reference.window(end, near.size)
        start = end - near.size
        heard_until = self._reference.last_audio_end + self._core.tail_samples()
        if start + FRAME >= heard_until and self._core.idle_run(near, far):
            await self.push_frame(frame)  # the bot has been silent: nothing to judge
            return
        pieces = _split(frame, blocks)
        released: list[tuple[_Piece, bool]] = []
        for i, piece in enumerate(pieces):
            lo, hi = i * FRAME, (i + 1) * FRAME
            before = self._core.state
            released += self._core.process(
                piece, near[lo:hi], far[lo:hi], bot_audible=start + hi < heard_until
            )
            if self._core.state != before:
                self._log_change(before, self._core.state)
        await self._emit(released)

    def _input_clock(self, n: int) -> int:
        """Input time of this frame's end, on the reference's timeline.

        Counted in samples from the start of the call, because frames queued while the bot
        was busy arrive in a burst but were spoken 20 ms apart: a backlog at call start
        belongs before the bot's first words, not on them (judged there, quiet input next to
        the greeting would teach the detector an ERL tens of dB too low). Never ahead of the
        wall clock. Behind it, a burst catches up by itself; frames arriving at the line's
        own pace, or after a gap, mean the line's clock moved: re-anchor at now. (The first
        frame is taken for the head of a backlog; if media merely started late, the second,
        arriving at pace, re-anchors.)
        """
        now = self._reference.now_index()
        gap = None if self._last_arrival is None else now - self._last_arrival
        self._last_arrival = now
        if self._near_end is None:
            end = now
        else:
            end = min(self._near_end + n, now)
            if end < now - _RESYNC and gap is not None and gap >= n // 2:
                end = now
        self._near_end = end
        return end

    async def _emit(self, released: list[tuple[_Piece, bool]]) -> None:
        """Push what the core released, in order, echo replaced by comfort silence of the same
        length. A line of 20 ms frames stays one: each frame leaves as itself. Batched frames
        leave as one frame per call, whatever mix of held and new pieces it releases: every
        frame costs the same at every hop, so the gate must not split a batch back up."""
        groups = [list(g) for _, g in groupby(released, key=lambda item: id(item[0].frame))]
        if len(groups) > 1 and any(group[0][0].of > 1 for group in groups):
            groups = [released]
        for group in groups:
            frame = group[0][0].frame
            audio = b"".join(
                p.audio if passed else self._comfort_audio(len(p.audio) // 2) for p, passed in group
            )
            if len(group) == group[0][0].of and all(p.frame is frame for p, _ in group):
                if not all(passed for _, passed in group):
                    frame.audio = audio  # same length: same id, pts and source
                await self.push_frame(frame)
                continue
            out = InputAudioRawFrame(
                audio=audio, sample_rate=frame.sample_rate, num_channels=frame.num_channels
            )
            out.transport_source = frame.transport_source
            await self.push_frame(out)

    def _comfort_audio(self, count: int) -> bytes:
        if self._core.detector is None:
            return bytes(count * 2)
        noise_power = min(self._core.detector.noise_floor, db_to_power(_COMFORT_MAX_DBFS))
        if self._comfort_pos + count > self._comfort.size:
            self._comfort_pos = 0
        chunk = self._comfort[self._comfort_pos : self._comfort_pos + count]
        self._comfort_pos += count
        return (chunk * np.sqrt(noise_power)).astype("<i2").tobytes()

    def _log_change(self, before: str, after: str) -> None:
        verdict = self._core.last_verdict
        detail = ""
        if verdict is not None:
            delay = "?" if verdict.delay_ms is None else f"{verdict.delay_ms:.0f} ms"
            erl = "?" if verdict.erl_db is None else f"{verdict.erl_db:.1f} dB"
            detail = (
                f" (residual {verdict.residual_db:.1f} dBFS, echo {verdict.echo_db:.1f} dBFS,"
                f" delay {delay}, ERL {erl})"
            )
        logger.debug(f"{self}: {before} -> {after}{detail}")
        if after == "open":
            logger.info(f"{self}: caller barge-in passed{detail}")

    def _log_summary(self) -> None:
        c = self._core.counters
        logger.info(
            f"{self}: mode={self.config.mode} openings={c.openings} state_changes="
            f"{c.state_changes} echo_frames_silenced={c.echo_frames}"
        )


@dataclass(frozen=True)
class EchoGateProcessors:
    """The pair to place: ``gate`` after transport input, ``tap`` after transport output."""

    gate: EchoGate
    tap: EchoReferenceTap


def create_echo_gate(config: EchoGateConfig) -> EchoGateProcessors | None:
    """The gate and its reference tap for one call; ``None`` when the mode is ``off``."""
    if config.mode == "off":
        return None
    reference = EchoReference()
    return EchoGateProcessors(EchoGate(config, reference), EchoReferenceTap(reference))
