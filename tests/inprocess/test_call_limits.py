"""Limits a user notices: a line that goes quiet, a call that runs too long, one call too
many and an oversize message each end (or refuse) the call, with the limit named in the
record's end_reason or the close frame and the log."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bot.config.settings import Settings
from sim.phone import PhoneCaller, Say, Silence
from sim.realtime import EmulatorConfig, RealtimeEmulator
from tests.helpers.fuzz_messages import connected, media, start
from tests.helpers.inprocess_server import serve_inprocess


@pytest.fixture
async def limited(tmp_path):
    settings = Settings(
        _env_file=None,
        records_dir=tmp_path / "records",
        idle_timeout_s=1.0,
        max_call_duration_s=3.0,
        max_concurrent_calls=1,
        max_message_bytes=2048,
    )
    async with RealtimeEmulator(EmulatorConfig()) as emulator:
        async with serve_inprocess(settings, emulator.url) as server:
            server.records_dir = tmp_path / "records"
            yield server


def records(server) -> dict[str, str]:
    lines = [
        json.loads(line)
        for path in server.records_dir.glob("*.jsonl")
        for line in path.read_text().splitlines()
    ]
    return {r["call_id"]: r["end_reason"] for r in lines}


async def quiet_line(url: str, call_sid: str, then_send: str | None = None) -> int | None:
    async with connect(url) as ws:
        await ws.send(json.dumps(connected()))
        await ws.send(json.dumps(start(call_sid)))
        if then_send is not None:
            await asyncio.sleep(0.3)
            await ws.send(then_send)
        async with asyncio.timeout(15):
            async for _ in ws:
                pass
    return ws.close_code


async def wait_for_record(server, call_id: str) -> str:
    async with asyncio.timeout(10):
        while call_id not in records(server):  # noqa: ASYNC110 - a file written by the server
            await asyncio.sleep(0.05)
    return records(server)[call_id]


async def test_a_quiet_line_ends_with_idle_timeout(limited):
    await quiet_line(limited.ws_url, "CAidle")
    assert await wait_for_record(limited, "CAidle") == "idle timeout: no media for 1 s"
    assert "call CAidle: ending (idle timeout: no media for 1 s)" in limited.log_text()


async def test_a_long_call_ends_at_the_max_duration(limited):
    caller = PhoneCaller(
        url=limited.ws_url, provider="twilio", steps=[Silence(10.0)], call_sid="CAlong"
    )
    result = await caller.run()
    assert result.closed_by == "server"
    assert result.duration_s < 9.0
    assert await wait_for_record(limited, "CAlong") == "max call duration reached (3 s)"


async def test_one_call_too_many_is_refused_politely(limited):
    first = asyncio.create_task(
        PhoneCaller(
            url=limited.ws_url,
            provider="twilio",
            steps=[Say("sim/audio/caller_order_status.wav")],
            call_sid="CAfirst",
        ).run()
    )
    async with asyncio.timeout(10):
        while not limited.server.active_calls:  # noqa: ASYNC110 - server state, no event
            await asyncio.sleep(0.05)
    async with connect(limited.ws_url) as ws:
        with pytest.raises(ConnectionClosed):
            await ws.recv()
    assert ws.close_code == 1013
    assert "MAX_CONCURRENT_CALLS" in ws.close_reason
    assert "refusing a media stream (1013): busy: 1 calls in progress" in limited.log_text()
    result = await first
    assert result.greeting_audio_s > 1.0, "the call in progress must not suffer"


async def test_an_oversize_message_ends_the_call_naming_the_limit(limited):
    big = json.dumps(media("A" * 4000))
    await quiet_line(limited.ws_url, "CAbig", then_send=big)
    reason = await wait_for_record(limited, "CAbig")
    assert reason == f"protocol error: message of {len(big)} bytes exceeds 2048"
