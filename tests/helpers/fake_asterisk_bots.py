"""Fake bots for sim.asterisk's tests: an AudioSocket server that records what Asterisk
sends, and a FastAGI server that answers a scripted list of commands."""

from __future__ import annotations

import asyncio
import struct
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np

from sim.phone.audio import pcm16_decode, rms


def tone_bytes(seconds: float, rate: int = 8000, amp: float = 8000.0) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    return (amp * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()


def speech_wav(path: Path, seconds: float = 0.5, seed: int = 2) -> Path:
    """Loud noise, 8 kHz: the emulated caller's VAD takes it for speech."""
    samples = np.random.default_rng(seed).normal(0, 6000, int(seconds * 8000))
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
