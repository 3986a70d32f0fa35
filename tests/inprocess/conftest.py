"""Fixtures of the in-process tier."""

import asyncio

import pipecat.transports.livekit.transport as pipecat_livekit
import pytest

from sim.livekit import FakeLiveKit
from tests.helpers.livekit_room import running_bots


@pytest.fixture
async def livekit(monkeypatch):
    """The fake LiveKit server, standing in for `livekit.rtc` inside Pipecat's transport."""
    fake = FakeLiveKit()
    monkeypatch.setattr(pipecat_livekit, "rtc", fake.rtc)
    yield fake
    # A failed assertion must not leave a bot running into the emulator's teardown.
    for task in running_bots:
        task.cancel()
    await asyncio.gather(*running_bots, return_exceptions=True)
    running_bots.clear()
