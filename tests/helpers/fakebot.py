"""A fake Pipecat-side bot for the phone-caller tests.

It does what the real bot's transport does: parse the handshake with pipecat's
parse_telephony_websocket, then speak through the provider's real FrameSerializer.
"""

from __future__ import annotations

import asyncio
import json
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from pipecat.frames.frames import (
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
)
from pipecat.runner.utils import parse_telephony_websocket
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.serializers.exotel import ExotelFrameSerializer
from pipecat.serializers.plivo import PlivoFrameSerializer
from pipecat.serializers.telnyx import TelnyxFrameSerializer
from pipecat.serializers.twilio import TwilioFrameSerializer
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

RATE = 8000


def tone(seconds: float, freq: float = 440.0, amp: float = 8000.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def noise(seconds: float, amp: float = 6000.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0, amp, int(seconds * RATE)), -32768, 32767).astype(np.int16)


def write_wav(path: Path, samples: np.ndarray, rate: int = RATE) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2"), w.getframerate()


def hello_clip(directory: Path) -> Path:
    """The caller's utterance: a 0.6 s tone, 16 kHz on disk so the caller resamples it."""
    return write_wav(directory / "hello.wav", tone(0.6, 300.0, 10000.0).repeat(2), rate=16000)


def frame_rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2))) if samples.size else 0.0


class _IterTextAdapter:
    """Gives a websockets connection the iter_text() that parse_telephony_websocket expects."""

    def __init__(self, ws: ServerConnection, seen: list[dict[str, Any]]) -> None:
        self._ws = ws
        self._seen = seen

    async def iter_text(self):  # type: ignore[no-untyped-def]
        async for raw in self._ws:
            self._seen.append(json.loads(raw))
            yield raw


def make_serializer(transport: str, call_data: Any) -> FrameSerializer:
    if transport == "twilio":
        return TwilioFrameSerializer(
            call_data.stream_id, params=TwilioFrameSerializer.InputParams(auto_hang_up=False)
        )
    if transport == "telnyx":
        return TelnyxFrameSerializer(
            call_data.stream_id,
            outbound_encoding=call_data.outbound_encoding,
            inbound_encoding="PCMU",
            params=TelnyxFrameSerializer.InputParams(auto_hang_up=False),
        )
    if transport == "plivo":
        return PlivoFrameSerializer(
            call_data.stream_id, params=PlivoFrameSerializer.InputParams(auto_hang_up=False)
        )
    if transport == "exotel":
        return ExotelFrameSerializer(call_data.stream_id, call_data.call_id)
    raise AssertionError(f"fake bot cannot serve {transport!r}")


@dataclass
class BotScript:
    greeting: np.ndarray | None = field(default_factory=lambda: tone(1.0))
    reply: np.ndarray = field(default_factory=lambda: tone(0.6, 660.0))
    reply_delay_s: float = 0.2
    answer_turns: set[int] | None = None  # None: answer every utterance
    realtime_reply: bool = False  # pace the reply at real time instead of a burst
    mark_after_greeting: str | None = None
    clear_after_s: float | None = None  # clear this long after the greeting was sent
    garbage: list[str] = field(default_factory=list)  # malformed messages to send first
    close_after_s: float | None = None


@dataclass
class BotLog:
    transport: str = ""
    call_data: Any = None
    start_at: float = 0.0  # monotonic time the handshake was parsed
    messages: list[dict[str, Any]] = field(default_factory=list)
    message_times: list[float] = field(default_factory=list)
    caller_audio: list[np.ndarray] = field(default_factory=list)
    dtmf: list[str] = field(default_factory=list)
    utterance_ends: list[float] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    def audio(self) -> np.ndarray:
        return np.concatenate(self.caller_audio) if self.caller_audio else np.zeros(0, np.int16)

    def events(self, name: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("event") == name]

    def time_of(self, name: str) -> float:
        """Seconds after the handshake at which the first `name` event arrived."""
        for msg, at in zip(self.messages, self.message_times, strict=True):
            if msg.get("event") == name:
                return at - self.start_at
        raise AssertionError(f"no {name} event received")


class FakeBot:
    def __init__(self, script: BotScript) -> None:
        self.script = script
        self.log = BotLog()
        self._server: Server | None = None
        self.url = ""

    async def __aenter__(self) -> FakeBot:
        self._server = await serve(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/ws"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _send_audio(
        self, ws: ServerConnection, ser: FrameSerializer, audio: np.ndarray, realtime: bool
    ) -> None:
        step = RATE // 10 if not realtime else RATE // 50
        for i in range(0, audio.size, step):
            frame = OutputAudioRawFrame(
                audio=audio[i : i + step].tobytes(), sample_rate=RATE, num_channels=1
            )
            data = await ser.serialize(frame)
            if data:
                await ws.send(data)
            await asyncio.sleep(0.02 if realtime else 0)

    async def _send_json(self, ws: ServerConnection, msg: dict[str, Any]) -> None:
        await ws.send(json.dumps(msg))

    def _mark_msg(self, name: str) -> dict[str, Any]:
        sid = self.log.call_data.stream_id
        if self.log.transport == "plivo":
            return {"event": "checkpoint", "streamId": sid, "name": name}
        if self.log.transport == "exotel":
            return {"event": "mark", "stream_sid": sid, "mark": {"name": name}}
        return {"event": "mark", "streamSid": sid, "mark": {"name": name}}

    async def _greet(self, ws: ServerConnection, ser: FrameSerializer) -> None:
        s = self.script
        for text in s.garbage:
            await ws.send(text)
        if s.greeting is not None:
            await self._send_audio(ws, ser, s.greeting, realtime=False)
        if s.mark_after_greeting:
            await self._send_json(ws, self._mark_msg(s.mark_after_greeting))
        if s.clear_after_s is not None:
            await asyncio.sleep(s.clear_after_s)
            data = await ser.serialize(InterruptionFrame())
            assert isinstance(data, str)
            await ws.send(data)
        if s.close_after_s is not None:
            await asyncio.sleep(s.close_after_s)
            await ws.close(code=1000, reason="bot ended the call")

    async def _reply(self, ws: ServerConnection, ser: FrameSerializer, turn: int) -> None:
        s = self.script
        if s.answer_turns is not None and turn not in s.answer_turns:
            return
        await asyncio.sleep(s.reply_delay_s)
        await self._send_audio(ws, ser, s.reply, realtime=s.realtime_reply)

    async def _handle(self, ws: ServerConnection) -> None:
        log = self.log
        seen: list[dict[str, Any]] = []
        tasks: list[asyncio.Task[None]] = []
        try:
            log.transport, log.call_data = await parse_telephony_websocket(
                _IterTextAdapter(ws, seen)
            )
            log.start_at = time.monotonic()
            log.messages.extend(seen)
            log.message_times.extend([log.start_at] * len(seen))
            ser = make_serializer(log.transport, log.call_data)
            await ser.setup(SimpleNamespace(audio_in_sample_rate=RATE))  # type: ignore[arg-type]
            tasks.append(asyncio.create_task(self._greet(ws, ser)))
            speaking, quiet, turn = False, 0, 0
            async for raw in ws:
                log.messages.append(json.loads(raw))
                log.message_times.append(time.monotonic())
                frame = await ser.deserialize(raw)
                if isinstance(frame, InputDTMFFrame):
                    log.dtmf.append(frame.button.value)
                if not isinstance(frame, InputAudioRawFrame):
                    continue
                pcm = np.frombuffer(frame.audio, dtype=np.int16)
                log.caller_audio.append(pcm)
                # Crude VAD: 200 ms of quiet after speech ends the caller's utterance.
                if frame_rms(pcm) > 500:
                    speaking, quiet = True, 0
                elif speaking:
                    quiet += 1
                    if quiet >= 10:
                        speaking = False
                        log.utterance_ends.append(time.monotonic() - log.start_at)
                        tasks.append(asyncio.create_task(self._reply(ws, ser, turn)))
                        turn += 1
        except ConnectionClosed:
            pass
        finally:
            for task in tasks:
                task.cancel()
            log.closed.set()
