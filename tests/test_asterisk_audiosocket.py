"""sim.asterisk's AudioSocket and FastAGI sides against small fake servers written here.

The AudioSocket checks are about pacing: Asterisk writes the bot's audio to the caller as it
comes, so the sim measures how far ahead of real time it arrived and how long the caller
kept hearing the bot after barging in.
"""

from __future__ import annotations

import asyncio
import json
import struct
import sys
import time
import uuid
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import pytest

from sim.asterisk import AudioSocketCall, run_fastagi
from sim.asterisk.agi import AgiChannel
from sim.asterisk.audiosocket import message
from sim.phone.audio import pcm16_decode, rms
from sim.phone.steps import Dtmf, Say, Silence

REPO = Path(__file__).resolve().parents[1]


def tone_bytes(seconds: float, rate: int = 8000, amp: float = 8000.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()


def speech_wav(path: Path, seconds: float = 0.5) -> Path:
    samples = np.random.default_rng(2).normal(0, 6000, int(seconds * 8000))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())
    return path


class Peer:
    """The fake AudioSocket server's view of one connection: messages Asterisk sent."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.messages: list[tuple[int, bytes]] = []
        self.changed = asyncio.Condition()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            while True:
                kind, length = struct.unpack(">BH", await self.reader.readexactly(3))
                self.messages.append((kind, await self.reader.readexactly(length)))
                async with self.changed:
                    self.changed.notify_all()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    async def until(self, predicate: Callable[[], bool], within_s: float = 2.0) -> None:
        async with asyncio.timeout(within_s), self.changed:
            await self.changed.wait_for(predicate)

    def caller_voiced(self) -> bool:
        audio = [p for k, p in self.messages if k in (0x10, 0x12)]
        return bool(audio) and rms(pcm16_decode(audio[-1])) > 2000

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()


Handler = Callable[[Peer], Awaitable[None]]


@asynccontextmanager
async def tcp_server(handler: Handler) -> AsyncIterator[int]:
    handlers: list[asyncio.Task[None]] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handlers.append(asyncio.current_task())  # type: ignore[arg-type]
        peer = Peer(reader, writer)
        try:
            await handler(peer)
            await peer.task
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]
        # The caller has hung up: let the bot see the end before the test looks at it.
        await asyncio.wait_for(asyncio.gather(*handlers), timeout=2.0)


@pytest.mark.parametrize("pacing", ["dumps", "paced"])
async def test_lead_and_barge_in_stop(tmp_path: Path, pacing: str) -> None:
    seen: dict[str, object] = {}

    async def bot(peer: Peer) -> None:
        await peer.until(lambda: bool(peer.messages))
        seen["first"] = peer.messages[0]
        frames = [message(0x10, tone_bytes(0.02)) for _ in range(100)]  # 2 s of answer
        if pacing == "dumps":
            await peer.send(b"".join(frames))
        else:
            start = time.monotonic()
            for k, frame in enumerate(frames):
                if peer.caller_voiced():
                    break  # a bot that stops talking when the caller does
                await peer.send(frame)
                await asyncio.sleep(max(0.0, start + (k + 1) * 0.02 - time.monotonic()))
        await peer.task
        seen["kinds"] = {(k, len(p)) for k, p in peer.messages[1:]}

    clip = speech_wav(tmp_path / "barge_in.wav")
    async with tcp_server(bot) as port:
        call = AudioSocketCall(
            "127.0.0.1", port, steps=[Silence(0.4), Say(clip), Silence(1.3)], wait_for_greeting_s=0
        )
        result = await call.run()

    assert seen["first"] == (0x01, uuid.UUID(call.uuid).bytes)  # the UUID comes first
    assert seen["kinds"] == {(0x10, 320)}  # then 20 ms of 8 kHz slin per message
    assert result.closed_by == "caller" and result.audio_kinds == ["0x10"]
    assert result.barge_in_times_s
    if pacing == "dumps":
        assert 95 <= result.max_lead_frames <= 100
        assert result.barge_in_stop_delays_s[0] >= 1.4  # the caller hears it all
    else:
        assert result.max_lead_frames is not None and result.max_lead_frames <= 2
        assert result.barge_in_stop_delays_s[0] < 0.15


async def test_wideband_dtmf_and_hangup_from_the_bot() -> None:
    seen: dict[str, object] = {}

    async def bot(peer: Peer) -> None:
        await peer.until(lambda: any(k == 0x03 for k, _ in peer.messages))
        await peer.send(message(0x10, tone_bytes(0.2)))  # 8 kHz audio on a 16 kHz line
        await asyncio.sleep(0.3)
        await peer.send(message(0x00, b""))
        await peer.task
        seen["kinds"] = {(k, len(p)) for k, p in peer.messages[1:]}

    async with tcp_server(bot) as port:
        result = await AudioSocketCall(
            "127.0.0.1", port, rate=16000, steps=[Dtmf("7"), Silence(2.0)], wait_for_greeting_s=0
        ).run()
    assert seen["kinds"] == {(0x12, 640), (0x03, 1)}
    assert result.hangup_received and result.closed_by == "server"
    assert result.duration_s < 1.5 and result.audio_kinds == ["0x10"]
    assert result.bot_audio_total_s == pytest.approx(0.2, abs=0.03)


@pytest.mark.parametrize("bad", [message(0x01, bytes(16)), b"\x10\x00\x00"], ids=["uuid", "empty"])
async def test_a_message_asterisk_does_not_accept_ends_the_session(bad: bytes) -> None:
    async def bot(peer: Peer) -> None:
        await peer.send(bad)
        await peer.task

    async with tcp_server(bot) as port:
        result = await AudioSocketCall(
            "127.0.0.1", port, steps=[Silence(2.0)], wait_for_greeting_s=0
        ).run()
    assert result.closed_by == "caller" and result.duration_s < 1.0
    assert "ends the AudioSocket session" in result.errors[0]


@asynccontextmanager
async def fake_agi(replies: dict[str, list[str]]) -> AsyncIterator[tuple[int, list[dict]]]:
    """A FastAGI server: per request script, the commands it sends; records what it read."""
    sessions: list[dict] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        env: dict[str, str] = {}
        while (line := (await reader.readline()).decode()) != "\n":
            key, _, value = line.rstrip("\n").partition(": ")
            env[key] = value
        answers = []
        for command in replies[env["agi_network_script"]]:
            writer.write(command.encode() + b"\n")
            await writer.drain()
            answers.append((await reader.readline()).decode().rstrip("\n"))
        sessions.append({"env": env, "answers": answers})
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], sessions


async def test_cli_registers_over_fastagi_then_calls_over_audiosocket() -> None:
    async def bot(peer: Peer) -> None:
        await peer.send(message(0x10, tone_bytes(0.3)))
        await peer.task

    script = {
        "register": ['SET VARIABLE AI_SESSION "s-1"', 'VERBOSE "registered" 1', "ANSWER"],
        "after": ['SET VARIABLE AI_DONE "yes"', "ANSWER"],
    }
    async with tcp_server(bot) as as_port, fake_agi(script) as (agi_port, sessions):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sim.asterisk",
            "--audiosocket",
            f"127.0.0.1:{as_port}",
            "--agi",
            f"127.0.0.1:{agi_port}",
            "--cname",
            "Ada Lovelace",
            "--silence",
            "0.5",
            "--wait-greeting",
            "0",
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 0
    result = json.loads(out)
    assert result["transport"] == "audiosocket" and result["bot_audio_total_s"] > 0.25
    assert result["agi_variables"] == {"AI_SESSION": "s-1", "AI_DONE": "yes"}
    register, after = sessions
    assert register["env"]["agi_arg_1"] == result["stream_sid"]  # the AudioSocket UUID
    assert register["env"]["agi_request"] == f"agi://127.0.0.1:{agi_port}/register"
    assert register["env"]["agi_calleridname"] == "Ada Lovelace"
    assert register["answers"] == ["200 result=1", "200 result=1", "200 result=0"]
    # The caller hung up, so "after" runs in the h extension on a dead channel.
    assert after["answers"] == [
        "200 result=1",
        "511 Command Not Permitted on a dead channel or intercept routine",
    ]
    assert [a["outcome"] for a in result["agi"]] == ["completed", "completed"]


async def test_fastagi_never_hangs_on_a_silent_server() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the environment, answers nothing, until the client leaves
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        started = time.monotonic()
        result = await run_fastagi(
            f"agi://127.0.0.1:{port}/register", ["u"], AgiChannel(), timeout_s=0.5
        )
    assert time.monotonic() - started < 1.0
    assert result.outcome == "timeout" and result.status == "FAILURE" and result.errors

    refused = await run_fastagi(f"agi://127.0.0.1:{port}/register", timeout_s=0.5)
    assert refused.outcome == "connect failed" and not refused.connected
