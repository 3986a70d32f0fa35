"""What the in-process call tests (rate limits, spend guard) share: the records a server
left, waiting on its state, the caller's audio matched against a clip, /metrics samples,
the server's settings and one phone call."""

import asyncio
import json
from pathlib import Path

import numpy as np
from prometheus_client.parser import text_string_to_metric_families

from bot.config.settings import Settings
from sim.phone import CallResult, PhoneCaller
from sim.realtime.audio import read_wav
from sim.realtime.recognizer import envelope
from tests.helpers.inprocess_server import InProcessServer

CONNECT_S = 2.0


def records(records_dir: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(records_dir.glob("calls-*.jsonl"))
        for line in path.read_text().splitlines()
    ]


async def wait_until(predicate, timeout_s: float = 15.0) -> None:
    # Polling: the conditions are the server's or the emulator's state, with no event.
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


def metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0.0


def likeness(heard_wav: Path, clip_wav: Path) -> float:
    """How well a clip's 10 ms energy envelope matches somewhere in what the caller heard
    (Pearson correlation, best lag): the clip itself scores near 1."""
    heard, heard_rate = read_wav(heard_wav)
    clip, clip_rate = read_wav(clip_wav)
    a, b = envelope(clip, clip_rate), envelope(heard, heard_rate)
    if len(b) < len(a):
        return 0.0
    a = a - a.mean()
    windows = np.lib.stride_tricks.sliding_window_view(b, len(a))
    w = windows - windows.mean(axis=1, keepdims=True)
    norms = np.sqrt((w * w).sum(axis=1)) * np.sqrt((a * a).sum())
    norms[norms == 0] = np.inf
    return float(((w @ a) / norms).max())


def settings_for(tmp_path: Path) -> Settings:
    return Settings(
        _env_file=None, records_dir=tmp_path / "records", realtime_connect_timeout_s=CONNECT_S
    )


async def phone_call(served: InProcessServer, steps: list, **kwargs) -> CallResult:
    return await PhoneCaller(url=served.ws_url, provider="twilio", steps=steps, **kwargs).run()
