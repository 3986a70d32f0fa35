"""Fixtures shared by the in-process and end-to-end tiers."""

import pytest

from sim.realtime import EmulatorConfig, RealtimeEmulator


@pytest.fixture
async def make_emu():
    started: list[RealtimeEmulator] = []

    async def _make(**kwargs) -> RealtimeEmulator:
        kwargs.setdefault("stream_speed", 40.0)
        emu = RealtimeEmulator(EmulatorConfig(**kwargs))
        await emu.start(host="127.0.0.1", port=0)
        started.append(emu)
        return emu

    yield _make
    for emu in started:
        assert all(not s.conformance_errors for s in emu.sessions)
        await emu.stop()
