"""Minimal Realtime API client for tests and CI scripts driving the emulator."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from sim.realtime.audio import encode, format_rate, read_wav, resample
from sim.realtime.clips import AUDIO_DIR


def clip_samples(name: str, fmt: dict | None = None, gain: float = 1.0) -> np.ndarray:
    """A bundled WAV as int16 samples at the rate of ``fmt`` (pcm 24 kHz, G.711 8 kHz)."""
    samples, rate = read_wav(AUDIO_DIR / name)
    out = resample(samples, rate, format_rate(fmt)).astype(np.float64) * gain
    return np.clip(out, -32768, 32767).astype(np.int16)


def silence(ms: int, fmt: dict | None = None) -> np.ndarray:
    return np.zeros(format_rate(fmt) * ms // 1000, dtype=np.int16)


class RealtimeClient:
    """Records every server event in ``received``; ``wait_for`` scans forward from a cursor."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[dict] = []
        self._cursor = 0

    @classmethod
    async def connect(
        cls,
        url: str,
        model: str = "gpt-realtime",
        api_key: str = "sk-test",
        intent: str | None = None,
        **kwargs: Any,
    ) -> RealtimeClient:
        """``intent="transcription"`` opens a transcription session (no model)."""
        query = f"intent={intent}" if intent else f"model={model}"
        ws = await connect(
            f"{url}?{query}",
            additional_headers={"Authorization": f"Bearer {api_key}"},
            max_size=16 * 1024 * 1024,
            **kwargs,
        )
        return cls(ws)

    async def send(self, etype: str, **fields: Any) -> str:
        event_id = fields.pop("event_id", None) or f"evt_{uuid.uuid4().hex[:12]}"
        await self.ws.send(json.dumps({"type": etype, "event_id": event_id, **fields}))
        return event_id

    async def send_raw(self, data: str) -> None:
        await self.ws.send(data)

    async def _recv(self, within: float) -> dict:
        raw = await asyncio.wait_for(self.ws.recv(), within)
        event = json.loads(raw)
        self.received.append(event)
        return event

    async def wait_for(self, etype: str, within: float = 5.0, **match: Any) -> dict:
        """Next event (after the cursor) of ``etype`` whose fields equal ``match``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            while self._cursor < len(self.received):
                event = self.received[self._cursor]
                self._cursor += 1
                if event.get("type") == etype and all(event.get(k) == v for k, v in match.items()):
                    return event
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no {etype} within {within}s")
            await self._recv(remaining)

    async def drain(self, seconds: float) -> list[dict]:
        """Collect everything that arrives within ``seconds``."""
        start = len(self.received)
        try:
            while True:
                await self._recv(seconds)
        except TimeoutError:
            pass
        return self.received[start:]

    async def send_audio(
        self, samples: np.ndarray, fmt: dict | None = None, chunk_ms: int = 20, pace: float = 0.0
    ) -> None:
        """Append audio in ``chunk_ms`` pieces; ``pace`` seconds of sleep between chunks."""
        per = format_rate(fmt) * chunk_ms // 1000
        for i in range(0, len(samples), per):
            payload = base64.b64encode(encode(samples[i : i + per], fmt)).decode()
            await self.send("input_audio_buffer.append", audio=payload)
            if pace:
                await asyncio.sleep(pace)

    def of_type(self, etype: str) -> list[dict]:
        return [e for e in self.received if e.get("type") == etype]

    async def close(self) -> None:
        await self.ws.close()
