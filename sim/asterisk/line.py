"""The caller's side of an Asterisk call, whatever carries it: clock, script, what was heard.

Asterisk bridges a real caller to the bot: the caller's audio reaches the bot in 20 ms
frames at wall-clock rate, and the bot's audio is played to the caller at wall-clock rate
(chan_websocket paces it with its queue; AudioSocket writes it straight through and the
caller's phone buffers it). CallerLine owns that clock and the script (sim.phone's steps);
a transport subclass says how a frame, a digit and a hang-up travel and what plays next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sim.asterisk.codecs import FRAME_S, to_8k
from sim.asterisk.result import AsteriskCallResult
from sim.phone.audio import BOT_AUDIO_RMS_FLOOR, load_wav, mix_clip, rms, write_wav
from sim.phone.playout import EchoLine
from sim.phone.steps import Dtmf, EchoPath, Hangup, Say, Silence, Step
from sim.phone.tracker import TurnTracker

# As in sim.phone: the greeting is over once playout is empty and no speech arrived for
# this long (bots stream in bursts, so an empty queue alone can be a gap between chunks).
_GREETING_QUIET_S = 0.3
# Bot audio heard within this long before a Say starts makes that Say a barge-in.
_AUDIBLE_S = 0.05


class CallEnded(Exception):
    """The far end went away; stop running steps."""


class CallerLine:
    """One scripted caller on a line sampled at ``rate`` Hz. Subclasses implement
    send_frame/send_dtmf/next_played/queued_frames and call run_script() once connected."""

    def __init__(
        self,
        result: AsteriskCallResult,
        rate: int,
        steps: Sequence[Step],
        wait_for_greeting_s: float | None,
        echo: EchoPath | None,
        record_path: Path | None,
    ) -> None:
        self.result = result
        self.rate = rate
        self.frame_samples = int(rate * FRAME_S)
        self.steps = list(steps)
        self.wait_for_greeting_s = wait_for_greeting_s
        self.record_path = record_path
        self.tracker = TurnTracker(result)
        self.echo = EchoLine(round(echo.delay_s * rate), echo.gain) if echo else None
        self.silence = np.zeros(self.frame_samples, dtype=np.int16)
        # Decode clips before dialling so file I/O cannot stall the real-time frame clock.
        self.clips = {str(s.path): load_wav(s.path, rate) for s in self.steps if isinstance(s, Say)}
        self.recorded: list[np.ndarray] = []
        self.t0 = time.monotonic()
        self.clock0 = self.t0
        self.frame_index = 0
        self.speaking = False  # inside a Say step
        self.ended = False  # the far end closed or hung up

    # -- transport hooks ------------------------------------------------------------------

    async def send_frame(self, samples: np.ndarray) -> None:
        raise NotImplementedError

    async def send_dtmf(self, digit: str) -> None:
        raise NotImplementedError

    async def next_played(self) -> tuple[np.ndarray, bool]:
        """The next frame the caller hears (padded to a full frame) and whether it is
        stale audio (see AsteriskCallResult.heard_after_flush_s)."""
        raise NotImplementedError

    def queued_frames(self) -> int:
        raise NotImplementedError

    # -- clock and script -----------------------------------------------------------------

    def now(self) -> float:
        return time.monotonic() - self.t0

    def start_clock(self) -> None:
        """Frame k is due at clock0 + k * 20 ms; scheduling on k means no drift."""
        self.clock0 = time.monotonic()
        self.frame_index = 0

    def frames_overdue(self) -> int:
        """Frames the clock has due that the loop has not played yet: a stalled event loop
        (a busy machine), not the bot. A real line would have played them already."""
        due = int((time.monotonic() - self.clock0) // FRAME_S) + 1
        return max(0, due - self.frame_index)

    def on_bot_audio(self, samples: np.ndarray) -> None:
        """Bot audio arrived (at the line's rate): greeting and turn latency by arrival."""
        self.tracker.on_bot_audio(self.now(), to_8k(samples, self.rate))

    async def tick(self, mic: np.ndarray) -> None:
        if self.ended:
            raise CallEnded
        delay = self.clock0 + self.frame_index * FRAME_S - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        played_at = self.clock0 - self.t0 + self.frame_index * FRAME_S
        self.frame_index += 1
        played, stale = await self.next_played()
        self.recorded.append(played)
        if rms(to_8k(played, self.rate)) > BOT_AUDIO_RMS_FLOOR:
            self.result.note_heard(played_at, FRAME_S)
            if stale:
                self.result.heard_after_flush_s += FRAME_S
        if self.echo is not None:
            mic = mix_clip(mic, self.echo.process(played))
        if self.ended:
            raise CallEnded
        await self.send_frame(mic)

    async def run_script(self) -> None:
        """Wait for the greeting, then run the steps; returns when the caller hangs up
        (end of script or a Hangup step), raises CallEnded when the far end went away."""
        await self.wait_for_greeting()
        for step in self.steps:
            if await self.run_step(step):
                return

    async def wait_for_greeting(self) -> None:
        timeout = self.wait_for_greeting_s
        if not timeout:
            return
        while self.now() < timeout:
            heard = self.tracker.last_voiced_arrival_s
            if (
                heard is not None
                and self.queued_frames() == 0
                and self.now() - heard >= _GREETING_QUIET_S
            ):
                return
            await self.tick(self.silence)

    async def run_step(self, step: Step) -> bool:
        """Run one scripted step; True means the caller hangs up."""
        if isinstance(step, Say):
            await self.say(step)
        elif isinstance(step, Silence):
            for _ in range(max(0, round(step.seconds / FRAME_S))):
                await self.tick(self.silence)
        elif isinstance(step, Dtmf):
            for digit in step.digits:
                await self.send_dtmf(digit)
                self.result.dtmf_sent += digit
                for _ in range(max(1, round(step.gap_s / FRAME_S))):
                    await self.tick(self.silence)
        elif isinstance(step, Hangup):
            if step.after_bot_audio_s is not None:
                deadline = self.now() + step.timeout_s
                while (
                    self.tracker.current_bot_audio_s() < step.after_bot_audio_s
                    and self.now() < deadline
                ):
                    await self.tick(self.silence)
            return True
        else:
            raise TypeError(f"unknown step {step!r}")
        return False

    async def say(self, step: Say) -> None:
        spans = self.result.bot_heard_s
        if spans and spans[-1][1] >= self.now() - _AUDIBLE_S:
            self.result.barge_in_times_s.append(self.now())
        samples = self.clips[str(step.path)]
        self.tracker.begin_say(Path(step.path).name, self.now())
        self.speaking = True
        try:
            for start in range(0, samples.size, self.frame_samples):
                frame = samples[start : start + self.frame_samples]
                if frame.size < self.frame_samples:
                    frame = np.concatenate([frame, self.silence[: self.frame_samples - frame.size]])
                await self.tick(frame)
        finally:
            self.speaking = False
        self.tracker.end_say(self.now())

    # -- after the call -------------------------------------------------------------------

    def finish(self) -> None:
        """Fill the measures only known at the end and write the recording."""
        self.result.duration_s = self.now()
        for start in self.result.barge_in_times_s:
            span = next((s for s in self.result.bot_heard_s if s[0] <= start <= s[1] + 0.1), None)
            self.result.barge_in_stop_delays_s.append(max(0.0, span[1] - start) if span else 0.0)
        if self.record_path is not None:
            audio = np.concatenate(self.recorded) if self.recorded else self.silence[:0]
            write_wav(self.record_path, audio, self.rate)
            self.result.record_path = str(self.record_path)
