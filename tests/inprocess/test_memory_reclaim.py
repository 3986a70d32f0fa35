"""Memory given back when calls end: a call's objects hold reference cycles, so without a
full collection they (and the memory they hold) wait for CPython's oldest generation.

End-to-end through the in-process server (a real WebSocket call, the emulator, the phone
caller) with the automatic collector switched off, so only the server's own reclaim can free
a finished call: with it the call's objects are gone once the call ends, without it they stay.
"""

import asyncio
import gc
import weakref

from bot.call.call import Call
from bot.config.settings import Settings
from bot.telephony.memory_reclaim import SETTLE_S
from sim.phone import PhoneCaller, Say, Silence
from sim.realtime import EmulatorConfig, RealtimeEmulator
from tests.helpers.inprocess_server import serve_inprocess


async def one_call_then_idle(tmp_path, interval_s: float) -> tuple[int, str]:
    settings = Settings(
        _env_file=None, records_dir=tmp_path / "records", memory_reclaim_interval_s=interval_s
    )
    async with RealtimeEmulator(EmulatorConfig()) as emulator:
        async with serve_inprocess(settings, emulator.url, log_level="DEBUG") as server:
            gc.collect()
            gc.disable()
            try:
                steps = [Say("sim/audio/caller_thanks.wav"), Silence(1.0)]
                caller = PhoneCaller(url=server.ws_url, provider="twilio", steps=steps)
                placed = asyncio.create_task(caller.run())
                async with asyncio.timeout(10):
                    while not server.server.active_calls:  # noqa: ASYNC110 - the server's state
                        await asyncio.sleep(0.02)
                calls: list[weakref.ref[Call]] = [
                    weakref.ref(call) for call in server.server.active_calls.values()
                ]
                result = await placed
                assert result.connected and result.turns, result.errors
                async with asyncio.timeout(10):
                    while server.server.active_calls:  # noqa: ASYNC110 - the server's own state
                        await asyncio.sleep(0.05)
                if interval_s > 0:
                    async with asyncio.timeout(10):
                        while not server.server.memory.reclaims:  # noqa: ASYNC110
                            await asyncio.sleep(0.05)
                else:
                    await asyncio.sleep(SETTLE_S + 0.5)
                return sum(1 for call in calls if call() is not None), server.log_text()
            finally:
                gc.enable()
                gc.collect()


async def test_a_finished_call_leaves_nothing_behind_once_the_server_is_idle(tmp_path):
    left, log = await one_call_then_idle(tmp_path, interval_s=60)
    assert left == 0
    assert "memory reclaim:" in log and "0 live calls" in log


async def test_without_the_reclaim_a_finished_call_waits_for_the_collector(tmp_path):
    """The control: the same call with the reclaim off is still in memory afterwards."""
    left, log = await one_call_then_idle(tmp_path, interval_s=0)
    assert left >= 1
    assert "memory reclaim:" not in log
