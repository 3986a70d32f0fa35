"""Shared pieces of the LiveKit room tests: the caller's audio at the room's rate, settings
for the fake server, and the bots a test started (cancelled by the `livekit` fixture, so a
failed assertion does not leave one running into the emulator's teardown)."""

import asyncio
import time
from pathlib import Path

import numpy as np

from bot.config.settings import Settings
from sim.realtime.audio import read_wav, resample

ORDER = Path("sim/audio/caller_order_status.wav")
RATE = 24000
SECRET = "fake-livekit-secret-of-32-bytes-at-least"

running_bots: list[asyncio.Task] = []


def caller_pcm(path: Path = ORDER, silence_s: float = 1.5) -> bytes:
    samples, rate = read_wav(path)
    speech = resample(samples, rate, RATE)
    return np.concatenate([speech, np.zeros(int(RATE * silence_s), np.int16)]).tobytes()


async def wait_until(predicate, timeout_s: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def settings_for(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None,
        records_dir=tmp_path / "records",
        livekit_url="ws://livekit.invalid:7880",
        livekit_api_key="devkey",
        livekit_api_secret=SECRET,
    )
