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

import functools
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

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
_COMFORT_STEP_DB = 1.0  # comfort noise follows the noise floor in steps this size
# Unit-power noise, read-only and shared by every call (each keeps its own read position).
_COMFORT_NOISE = np.random.default_rng(0).standard_normal(ANALYSIS_RATE * 4).astype(np.float32)
_COMFORT_NOISE.flags.writeable = False
_FULL_SCALE = db_to_power(0.0)
_COMFORT_MAX_POWER = db_to_power(_COMFORT_MAX_DBFS)
_RESYNC = ANALYSIS_RATE * 3 // 10  # input this far off the wall clock re-anchors (300 ms)

# Where judged caller audio goes on the audio fast lane: (16-bit PCM, sample rate, channels).
AudioSink = Callable[[bytes, int, int], Awaitable[None]]


class AudioSource(Protocol):
    """What the gate cuts into pieces: an input frame, or caller audio handed in directly."""

    audio: bytes
    sample_rate: int
    num_channels: int


@dataclass(slots=True)
class _Audio:
    """Caller audio handed to :meth:`EchoGate.take_caller_audio`, standing in for a frame."""

    audio: bytes
    sample_rate: int
    num_channels: int


class _Piece(NamedTuple):
    """20 ms of an input frame: the gate judges, holds and releases audio in these."""

    source: AudioSource
    audio: bytes | memoryview
    of: int  # how many pieces the source was cut into


def _split(source: AudioSource, blocks: int) -> list[_Piece]:
    """``blocks`` consecutive pieces of the source's audio, cut at sample boundaries (views,
    not copies: a piece is copied once, when it leaves)."""
    if blocks == 1:
        return [_Piece(source, source.audio, 1)]
    width = 2 * source.num_channels
    samples = len(source.audio) // width
    view = memoryview(source.audio)
    cuts = [round(i * samples / blocks) * width for i in range(blocks + 1)]
    return [_Piece(source, view[cuts[i] : cuts[i + 1]], blocks) for i in range(blocks)]


def _groups(released: list[tuple[_Piece, bool]]) -> list[list[tuple[_Piece, bool]]]:
    """Released pieces in the outputs they leave as. A line of 20 ms frames stays one: each
    frame leaves as itself. Batched frames leave as one output per call, whatever mix of held
    and new pieces it releases: every output costs the same at every hop, so the gate must
    not split a batch back up."""
    if not released:
        return []
    groups: list[list[tuple[_Piece, bool]]] = []
    current = [released[0]]
    batched = released[0][0].of > 1
    for item in released[1:]:
        if item[0].source is current[0][0].source:
            current.append(item)
            continue
        groups.append(current)
        current = [item]
        batched = batched or item[0].of > 1
    groups.append(current)
    return [released] if batched and len(groups) > 1 else groups


@functools.lru_cache(maxsize=64)
def _comfort_pcm(level_dbfs: float) -> bytes:
    """The shared noise as 16-bit PCM at ``level_dbfs``, built once per level for all calls."""
    scaled = _COMFORT_NOISE * np.float32(math.sqrt(db_to_power(level_dbfs)))
    return scaled.astype("<i2").tobytes()


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
            await self.played(frame.audio, frame.sample_rate, frame.num_channels)
        elif isinstance(frame, InterruptionFrame):
            self._reference.interrupt()
        await self.push_frame(frame, direction)

    async def played(self, audio: bytes, sample_rate: int, num_channels: int) -> None:
        """Bot audio just written to the line (the frame's content, or handed in directly)."""
        if sample_rate != ANALYSIS_RATE:
            audio = await self._resampler.resample(audio, sample_rate, ANALYSIS_RATE)
        self._reference.play(_samples(audio, num_channels))


class EchoGate(FrameProcessor):
    """Passes the caller's audio, replacing the bot's echo with comfort silence.

    Caller audio comes in as input frames (pushed on as frames), or, on the audio fast lane,
    by :meth:`take_caller_audio` (handed on to the sink :meth:`send_audio_to` set); the judging is
    the same. Control frames always come as frames: the gate starts its input clock at the
    StartFrame and releases what it holds at the end of the call.
    """

    def __init__(self, config: EchoGateConfig, reference: EchoReference, **kwargs) -> None:
        super().__init__(enable_direct_mode=True, **kwargs)
        self.config = config
        self._reference = reference
        self._core: GateCore[_Piece] = GateCore(config.mode, config.thresholds())
        self._near_end: int | None = None
        self._last_arrival: int | None = None
        self._resampler = create_file_resampler()
        self._comfort_pos = 0
        self._sink: AudioSink | None = None
        self._warned_frame_size = False

    @property
    def counters(self) -> GateCounters:
        return self._core.counters

    @property
    def state(self) -> str:
        return self._core.state

    def send_audio_to(self, sink: AudioSink | None) -> None:
        """Hand judged caller audio to ``sink`` instead of pushing it on as frames (``None``:
        frames again)."""
        self._sink = sink

    async def take_caller_audio(self, audio: bytes, sample_rate: int, num_channels: int) -> None:
        """Caller audio straight from the line (the fast lane): judged as a frame of it would
        be, and handed to the sink."""
        sink = self._sink
        assert sink is not None, "caller audio as bytes needs send_audio_to first"
        source = _Audio(audio, sample_rate, num_channels)
        released = await self._judge(source)
        if released is None:
            await sink(audio, sample_rate, num_channels)
        else:
            await self._emit(released)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame) and direction == FrameDirection.DOWNSTREAM:
            released = await self._judge(frame)
            if released is None:
                await self.push_frame(frame)
            else:
                await self._emit(released)
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

    async def _judge(self, source: AudioSource) -> list[tuple[_Piece, bool]] | None:
        """What the core releases for this input, in order; ``None``: the input passes as it
        is (the gate is off, or idle while the bot is silent)."""
        if self.config.mode == "off":
            return None
        audio = source.audio
        if source.sample_rate != ANALYSIS_RATE:
            audio = await self._resampler.resample(audio, source.sample_rate, ANALYSIS_RATE)
        near = _samples(audio, source.num_channels)
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
            return None  # the bot has been silent: nothing to judge
        core = self._core
        released: list[tuple[_Piece, bool]] = []
        for i, piece in enumerate(_split(source, blocks)):
            lo, hi = i * FRAME, (i + 1) * FRAME
            before = core.state
            released += core.process(
                piece, near[lo:hi], far[lo:hi], bot_audible=start + hi < heard_until
            )
            if core.state != before:
                self._log_change(before, core.state)
        return released

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
        """Send on what the core released, in order (:func:`_groups`), echo replaced by
        comfort silence of the same length: to the sink on the fast lane, else as frames."""
        for group in _groups(released):
            source = group[0][0].source
            whole = len(group) == group[0][0].of and all(p.source is source for p, _ in group)
            if whole and all(passed for _, passed in group):
                audio = source.audio
            else:
                audio = b"".join(
                    [
                        p.audio if passed else self._comfort_audio(len(p.audio) // 2)
                        for p, passed in group
                    ]
                )
            if self._sink is not None:
                await self._sink(audio, source.sample_rate, source.num_channels)
            elif whole:
                assert isinstance(source, InputAudioRawFrame)
                source.audio = audio  # same length: same id, pts and source
                await self.push_frame(source)
            else:
                assert isinstance(source, InputAudioRawFrame)
                out = InputAudioRawFrame(
                    audio=audio, sample_rate=source.sample_rate, num_channels=source.num_channels
                )
                out.transport_source = source.transport_source
                await self.push_frame(out)

    def _comfort_audio(self, count: int) -> bytes:
        """``count`` samples of comfort noise at the noise floor (at most -60 dBFS), read from
        noise scaled once per level step rather than once per piece."""
        if self._core.detector is None:
            return bytes(count * 2)
        power = min(self._core.detector.noise_floor, _COMFORT_MAX_POWER)
        dbfs = 10 * math.log10(max(power, 1e-12) / _FULL_SCALE)
        level = _COMFORT_STEP_DB * round(dbfs / _COMFORT_STEP_DB)
        pcm = _comfort_pcm(level)
        if self._comfort_pos + count > _COMFORT_NOISE.size:
            self._comfort_pos = 0
        pos = self._comfort_pos
        self._comfort_pos += count
        return pcm[2 * pos : 2 * (pos + count)]

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
