"""Wire-level emulator of the OpenAI Realtime API (GA protocol) for tests and CI.

Usage::

    async with RealtimeEmulator(EmulatorConfig()) as emu:
        url = emu.url  # ws://127.0.0.1:PORT/v1/realtime ; clients append ?model=...
"""

from sim.realtime.config import EmulatorConfig, ScriptedFunctionCall
from sim.realtime.faults import Faults
from sim.realtime.server import RealtimeEmulator
from sim.realtime.session import EmulatedSession

__all__ = [
    "EmulatedSession",
    "EmulatorConfig",
    "Faults",
    "RealtimeEmulator",
    "ScriptedFunctionCall",
]
