"""Fixtures of the end-to-end tier."""

import pytest

from sim.realtime import EmulatorConfig


@pytest.fixture
async def emulator(make_emu):
    """A Realtime emulator with its default settings for end-to-end calls (conformance
    checked as for every emulator here)."""
    return await make_emu(stream_speed=EmulatorConfig().stream_speed)
