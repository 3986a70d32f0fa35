"""PhoneCaller: places one simulated call against a bot's media-stream WebSocket."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from sim.phone.audio import (
    BOT_AUDIO_RMS_FLOOR,
    FRAME_S,
    FRAME_SAMPLES,
    SAMPLE_RATE,
    load_wav_8k,
    mix_clip,
    rms,
    write_wav_8k,
)
from sim.phone.inbound import BotAudio, Clear, MalformedMessage, Mark, parse_inbound
from sim.phone.playout import EchoLine, GapMeter, PlayoutBuffer
from sim.phone.protocol import CallIdentity, ProviderProtocol, make_protocol
from sim.phone.result import CallResult
from sim.phone.steps import Dtmf, EchoPath, Hangup, Say, Silence, Step
from sim.phone.tracker import TurnTracker

log = logging.getLogger(__name__)

_SILENCE = np.zeros(FRAME_SAMPLES, dtype=np.int16)
# The greeting counts as finished once playout is empty and no speech arrived for this long;
# bots stream in bursts, so an empty queue alone can be a gap between chunks.
_GREETING_QUIET_S = 0.3


class _CallEnded(Exception):
    """The server closed the socket; stop running steps."""


class PhoneCaller:
    """One scripted phone call. Construct, then ``await run()`` for a CallResult."""

    def __init__(
        self,
        url: str,
        provider: str = "twilio",
        steps: Sequence[Step] = (),
        caller_number: str = "+15551230000",
        caller_name: str | None = None,
        called_number: str = "+15559870000",
        custom_parameters: dict[str, str] | None = None,
        wait_for_greeting_s: float | None = 10.0,
        echo: EchoPath | None = None,
        record_path: str | Path | None = None,
        extra_headers: dict[str, str] | None = None,
        connect_timeout_s: float = 5.0,
        call_sid: str | None = None,
    ) -> None:
        self.url = url
        self.provider = provider
        self.steps = list(steps)
        self.identity = CallIdentity(
            caller_number=caller_number,
            called_number=called_number,
            caller_name=caller_name,
            custom_parameters=dict(custom_parameters or {}),
            call_sid=call_sid,
        )
        self.wait_for_greeting_s = wait_for_greeting_s
        self.echo = echo
        self.record_path = Path(record_path) if record_path else None
        self.extra_headers = dict(extra_headers or {})
        self.connect_timeout_s = connect_timeout_s
        make_protocol(provider, self.identity)  # fail fast on an unknown provider

    async def run(self) -> CallResult:
        """Place the call, run the script, hang up; never raises for network trouble."""
        # Decode clips before dialling so file I/O cannot stall the real-time frame clock.
        clips = {
            str(step.path): load_wav_8k(step.path) for step in self.steps if isinstance(step, Say)
        }
        proto = make_protocol(self.provider, self.identity)
        result = CallResult(
            provider=self.provider, call_sid=proto.call_sid, stream_sid=proto.stream_sid
        )
        try:
            ws = await connect(
                self.url,
                additional_headers=self.extra_headers or None,
                open_timeout=self.connect_timeout_s,
                ping_interval=None,
                max_size=None,
            )
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            result.errors.append(f"connect failed: {type(exc).__name__}: {exc}")
            return result
        result.connected = True
        session = _Session(self, ws, proto, result, clips)
        await session.run()
        return result


class _Session:
    """State of one live call: frame clock, playout, receiver task."""

    def __init__(
        self,
        caller: PhoneCaller,
        ws: ClientConnection,
        proto: ProviderProtocol,
        result: CallResult,
        clips: dict[str, np.ndarray],
    ) -> None:
        self.caller = caller
        self.ws = ws
        self.proto = proto
        self.result = result
        self.clips = clips
        self.playout = PlayoutBuffer()
        self.gaps = GapMeter()
        self.tracker = TurnTracker(result)
        self.echo = (
            EchoLine(round(caller.echo.delay_s * 8000), caller.echo.gain) if caller.echo else None
        )
        self.recorded: list[np.ndarray] = []
        self.t0 = 0.0
        self.frame_index = 0
        self.hanging_up = False
        self.server_closed = False

    def now(self) -> float:
        return time.monotonic() - self.t0

    async def run(self) -> None:
        receiver: asyncio.Task[None] | None = None
        try:
            for message in self.proto.handshake():
                await self.send(message)
            self.t0 = time.monotonic()  # all result times are relative to sending start
            self.result.started_at_unix = time.time()
            receiver = asyncio.create_task(self.receive())
            await self.wait_for_greeting()
            for step in self.caller.steps:
                if await self.run_step(step):
                    break
        except _CallEnded:
            pass
        finally:
            await self.finish(receiver)

    async def finish(self, receiver: asyncio.Task[None] | None) -> None:
        if not self.server_closed:
            self.hanging_up = True
            try:
                await self.ws.send(json.dumps(self.proto.stop()))
            except ConnectionClosed:
                pass
            await self.ws.close()
        if receiver is not None:
            try:
                await asyncio.wait_for(receiver, timeout=2.0)
            except TimeoutError:
                receiver.cancel()
        self.result.closed_by = "server" if self.server_closed else "caller"
        self.result.close_code = self.ws.close_code
        self.result.duration_s = self.now()
        self.result.late_chunks = self.gaps.late_chunks
        self.result.gaps_heard = self.gaps.heard_gaps
        self.result.gap_total_s = sum(self.gaps.gaps_s)
        self.result.max_gap_s = max(self.gaps.gaps_s, default=0.0)
        self.result.gaps = [
            [round(at, 3), round(gap, 3)]
            for at, gap in zip(self.gaps.resumed_at_s, self.gaps.gaps_s, strict=True)
        ]
        if self.caller.record_path is not None:
            audio = np.concatenate(self.recorded) if self.recorded else _SILENCE[:0]
            write_wav_8k(self.caller.record_path, audio)
            self.result.record_path = str(self.caller.record_path)

    async def send(self, message: dict[str, Any]) -> None:
        try:
            await self.ws.send(json.dumps(message))
        except ConnectionClosed as exc:
            self.server_closed = not self.hanging_up
            raise _CallEnded from exc

    async def tick(self, mic: np.ndarray) -> None:
        """Send one 20 ms frame at t0 + k*20 ms; scheduling on k means no drift."""
        if self.server_closed:
            raise _CallEnded
        delay = self.t0 + self.frame_index * FRAME_S - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        self.frame_index += 1
        played, reached = self.playout.pull(FRAME_SAMPLES)
        self.recorded.append(played)
        if rms(played) > BOT_AUDIO_RMS_FLOOR:
            self.result.note_heard((self.frame_index - 1) * FRAME_S, FRAME_S)
        if self.echo is not None:
            mic = mix_clip(mic, self.echo.process(played))
        await self.send(self.proto.media(mic))
        for name in reached:
            await self.answer_mark(name)

    async def answer_mark(self, name: str) -> None:
        reply = self.proto.mark_reply(name)
        if reply is not None:
            await self.send(reply)
            self.result.marks_answered += 1
            self.result.mark_names.append(name)

    async def wait_for_greeting(self) -> None:
        timeout = self.caller.wait_for_greeting_s
        if not timeout:
            return
        while self.now() < timeout:
            heard = self.tracker.last_voiced_arrival_s
            if (
                heard is not None
                and self.playout.queued_samples == 0
                and self.now() - heard >= _GREETING_QUIET_S
            ):
                return
            await self.tick(_SILENCE)

    async def run_step(self, step: Step) -> bool:
        """Run one scripted step; True means the caller hung up."""
        if isinstance(step, Say):
            samples = self.clips[str(step.path)]
            self.tracker.begin_say(Path(step.path).name, self.now())
            for start in range(0, samples.size, FRAME_SAMPLES):
                frame = samples[start : start + FRAME_SAMPLES]
                if frame.size < FRAME_SAMPLES:
                    frame = np.concatenate([frame, _SILENCE[: FRAME_SAMPLES - frame.size]])
                await self.tick(frame)
            self.tracker.end_say(self.now())
        elif isinstance(step, Silence):
            for _ in range(max(0, round(step.seconds / FRAME_S))):
                await self.tick(_SILENCE)
        elif isinstance(step, Dtmf):
            for digit in step.digits:
                await self.send(self.proto.dtmf(digit))
                self.result.dtmf_sent += digit
                for _ in range(max(1, round(step.gap_s / FRAME_S))):
                    await self.tick(_SILENCE)
        elif isinstance(step, Hangup):
            if step.after_bot_audio_s is not None:
                deadline = self.now() + step.timeout_s
                while (
                    self.tracker.current_bot_audio_s() < step.after_bot_audio_s
                    and self.now() < deadline
                ):
                    await self.tick(_SILENCE)
            return True
        else:
            raise TypeError(f"unknown step {step!r}")
        return False

    async def receive(self) -> None:
        try:
            async for raw in self.ws:
                for reply in self.handle(raw):
                    await self.ws.send(json.dumps(reply))
        except ConnectionClosed:
            pass
        finally:
            if not self.hanging_up:
                self.server_closed = True

    def handle(self, raw: str | bytes) -> list[dict[str, Any]]:
        """Apply one server message; returns the replies it calls for."""
        now = self.now()
        replies: list[dict[str, Any]] = []
        try:
            event = parse_inbound(self.proto.name, raw)
        except MalformedMessage as exc:
            self.result.errors.append(f"{now:.3f}s malformed server message: {exc}")
            return replies
        if isinstance(event, BotAudio):
            self.tracker.on_bot_audio(now, event.samples)
            self.gaps.arrived(now, event.samples.size / SAMPLE_RATE)
            self.playout.push_audio(event.samples)
        elif isinstance(event, Mark):
            self.playout.push_mark(event.name)
        elif isinstance(event, Clear):
            self.result.clears += 1
            self.result.clear_times_s.append(now)
            pending = self.playout.clear()
            self.gaps.cleared()
            ack = self.proto.clear_reply()
            if ack is not None:
                # Plivo acknowledges the clear itself and drops pending checkpoints.
                replies.append(ack)
            else:
                # Twilio-style: a clear sends back every mark that had not been reached.
                for name in pending:
                    reply = self.proto.mark_reply(name)
                    if reply is not None:
                        replies.append(reply)
                        self.result.marks_answered += 1
                        self.result.mark_names.append(name)
        else:
            log.debug("ignoring %s message from server", event.event)
        return replies
