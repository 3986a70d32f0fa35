"""A caller hanging up mid-reply: the call's pipeline ends, its record is written and none
of its tasks outlive it. The server runs in this process so its tasks can be inspected."""

import asyncio
import json

import uvicorn

from bot.call.call import RealtimeEndpoint
from bot.config.profiles import load_profile
from bot.config.settings import Settings
from bot.telephony.server import TelephonyConfig, TelephonyServer
from sim.bot_process import free_port
from sim.phone import Hangup, PhoneCaller, Say
from sim.realtime import EmulatorConfig, RealtimeEmulator


async def wait_until(predicate, timeout_s: float = 10.0) -> None:
    # Polling: the conditions are other components' state, with no event to wait on.
    async with asyncio.timeout(timeout_s):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_hangup_mid_reply_leaves_no_task_behind(tmp_path):
    records_dir = tmp_path / "records"
    async with RealtimeEmulator(EmulatorConfig()) as emulator:
        server = TelephonyServer(
            TelephonyConfig(
                provider="twilio",
                profile=load_profile("default"),
                settings=Settings(_env_file=None, records_dir=records_dir),
                realtime=RealtimeEndpoint(url=emulator.url, api_key="sk-test"),
            )
        )
        port = free_port()
        http = uvicorn.Server(
            uvicorn.Config(server.app, host="127.0.0.1", port=port, log_level="warning")
        )
        serving = asyncio.create_task(http.serve())
        await wait_until(lambda: http.started)
        before = asyncio.all_tasks()

        caller = PhoneCaller(
            url=f"ws://127.0.0.1:{port}/ws",
            provider="twilio",
            steps=[Say("sim/audio/caller_order_status.wav"), Hangup(after_bot_audio_s=0.5)],
        )
        call = asyncio.create_task(caller.run())
        await wait_until(lambda: server.active_calls)
        await asyncio.sleep(1.0)
        # The check below has something to find: the live call runs tasks of its own.
        assert _call_tasks(before | {call})
        result = await call
        assert result.closed_by == "caller"
        assert result.turns[0].first_bot_audio_s is not None, "hung up before any reply"

        await wait_until(lambda: not server.active_calls and list(records_dir.glob("*.jsonl")))
        await wait_until(lambda: not _call_tasks(before), timeout_s=5.0)
        # The Realtime side of the call is closed too.
        await wait_until(lambda: all(s.closed for s in emulator.sessions))

        http.should_exit = True
        await serving
    [line] = next(records_dir.glob("*.jsonl")).read_text().splitlines()
    assert json.loads(line)["end_reason"] == "caller hung up"


def _call_tasks(before: set[asyncio.Task]) -> list[str]:
    """Tasks started since the call began that are still running (the test's own excluded)."""
    current = asyncio.current_task()
    return [
        t.get_name()
        for t in asyncio.all_tasks() - before
        if not t.done() and t is not current and "websockets" not in repr(t.get_coro())
    ]
