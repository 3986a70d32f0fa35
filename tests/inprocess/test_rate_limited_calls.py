"""The Realtime rate limit at a call's start, on real calls (server and emulator in this
process, the simulated phone over a real socket): the caller hears the fallback line within
the connect timeout and the call ends "rate limited", counted on /metrics, while a parallel
call on a healthy session goes on; a transient HTTP 429 gives a normal call."""

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from bot.asterisk.lines import AsteriskLines, AsteriskOptions
from bot.call.call import RealtimeEndpoint
from bot.call.fallback_prompt import BUNDLED_FALLBACK_AUDIO, END_REASON_RATE_LIMITED
from bot.call.pricing import load_price_table
from bot.config.profiles import load_profile
from bot.rooms.livekit_bot import run_room_call
from bot.rooms.livekit_room import RoomPolicy
from bot.rooms.livekit_tokens import agent_credentials
from runner import main
from sim.asterisk import AsteriskWebSocketCall
from sim.bot_process import free_port
from sim.phone import Say, Silence
from sim.realtime import EmulatorConfig, Faults, RealtimeEmulator
from sim.realtime.server import CLOSE_TRY_AGAIN_LATER
from tests.helpers.inprocess_server import serve_inprocess
from tests.helpers.livekit_room import running_bots
from tests.helpers.livekit_room import settings_for as room_settings
from tests.helpers.livekit_room import wait_until as room_wait_until
from tests.helpers.served_calls import (
    CONNECT_S,
    likeness,
    metric,
    phone_call,
    records,
    settings_for,
    wait_until,
)

ORDER = "sim/audio/caller_order_status.wav"
GREETING = "sim/audio/bot_greeting.wav"


def asterisk_lines(server) -> AsteriskLines:
    return AsteriskLines(server, AsteriskOptions(agi_port=free_port()))


async def test_rate_limited_call_hears_the_fallback_line_while_a_parallel_call_goes_on(
    tmp_path, capsys
):
    # Connection 0 is the healthy call's session; every later one is over the rate limit.
    config = EmulatorConfig(faults=Faults(rate_limited=True), faults_for_connection={0: Faults()})
    heard = tmp_path / "heard.wav"
    async with (
        RealtimeEmulator(config) as emulator,
        serve_inprocess(settings_for(tmp_path), emulator.url) as served,
        httpx.AsyncClient(base_url=served.http_url) as http,
    ):
        served.server.config.prices = load_price_table()
        healthy = asyncio.create_task(phone_call(served, [Silence(7), Say(ORDER), Silence(7)]))
        await wait_until(lambda: emulator.sessions and emulator.sessions[0].items)
        limited = await phone_call(served, [Silence(15)], record_path=heard)
        healthy_result = await healthy
        await wait_until(lambda: not served.server.active_calls)
        text = (await http.get("/metrics")).text
        sessions = list(emulator.sessions)
    by_reason = {r["end_reason"]: r for r in records(tmp_path / "records")}
    record = by_reason[END_REASON_RATE_LIMITED]

    # The limited call: retried with backoff within the connect timeout, then the line.
    refused = [s for s in sessions if s.index > 0]
    assert len(refused) >= 2 and all(s.close_code == CLOSE_TRY_AGAIN_LATER for s in refused)
    assert refused[-1].connected_at - refused[0].connected_at < CONNECT_S
    assert not [e for s in sessions for e in s.conformance_errors]
    assert limited.greeting_delay_s is not None
    # The bound: the caller hears the line within the connect timeout (+ the pipeline).
    assert limited.greeting_delay_s < CONNECT_S + 1.0, limited.greeting_delay_s
    assert likeness(heard, BUNDLED_FALLBACK_AUDIO) > 0.8 > likeness(heard, Path(GREETING))
    assert limited.closed_by == "server" and limited.greeting_audio_s > 2.0
    assert [t["text"] for t in record["transcript"]] == [load_profile("default").fallback_line]
    assert any(e["source"] == "rate_limit" for e in record["events"])
    assert metric(text, "voicebot_realtime_rate_limited_total") == 1
    assert metric(text, "voicebot_calls_ended_total", reason="rate_limited") == 1

    # The parallel call, on the same server and emulator: greeted and answered as usual.
    assert healthy_result.closed_by == "caller" and healthy_result.greeting_audio_s > 1.0
    assert healthy_result.turns[0].latency_s is not None
    assert healthy_result.turns[0].bot_audio_s > 1.0
    assert by_reason["caller hung up"]["realtime"]["sessions"] == 1
    # Spend: the refused call cost nothing; /metrics and the spend report sum the records.
    costs = [r["cost_usd"] for r in by_reason.values()]
    assert record["cost_usd"] == 0 and sum(costs) > 0
    assert metric(text, "voicebot_cost_usd_total") == pytest.approx(sum(costs), abs=1e-9)
    assert main(["spend", "--json", "--records-dir", str(tmp_path / "records")]) == 0
    total = json.loads(capsys.readouterr().out)["rows"][-1]
    assert total["calls"] == 2 and round(total["cost_usd"], 2) == round(sum(costs), 2)
    assert total["cost_usd"] == pytest.approx(sum(costs), abs=1e-9)
    print(
        f"\nrate limited: {len(refused)} attempts over "
        f"{refused[-1].connected_at - refused[0].connected_at:.2f}s, fallback heard "
        f"{limited.greeting_delay_s:.2f}s after the call started "
        f"({limited.greeting_audio_s:.2f}s of it); parallel call's turn latency "
        f"{healthy_result.turns[0].latency_s:.3f}s"
    )


async def test_a_transient_429_on_connect_then_a_normal_call(tmp_path):
    config = EmulatorConfig(faults_for_connection={0: Faults(http_status=429, retry_after_s=0.3)})
    async with (
        RealtimeEmulator(config) as emulator,
        serve_inprocess(settings_for(tmp_path), emulator.url) as served,
    ):
        result = await phone_call(served, [Say(ORDER), Silence(6)])
        await wait_until(lambda: not served.server.active_calls)
        refused = list(emulator.refused_upgrades)
    [record] = records(tmp_path / "records")
    assert refused == [0]
    assert result.greeting_audio_s > 1.0 and result.turns[0].latency_s is not None
    assert record["end_reason"] == "caller hung up"
    assert record["realtime"]["sessions"] == 1
    assert "rate limited (HTTP 429, retry in 0.3s)" in served.log_text()


async def test_a_429_that_outlasts_the_connect_timeout_plays_the_line_without_waiting(tmp_path):
    # The server says to come back after the window: no point keeping the caller waiting.
    config = EmulatorConfig(faults=Faults(http_status=429, retry_after_s=30))
    async with (
        RealtimeEmulator(config) as emulator,
        serve_inprocess(settings_for(tmp_path), emulator.url) as served,
    ):
        result = await phone_call(served, [Silence(10)])
        await wait_until(lambda: not served.server.active_calls)
        refused = list(emulator.refused_upgrades)
    [record] = records(tmp_path / "records")
    assert refused == [0], "one try: the hint is past the connect timeout"
    assert record["end_reason"] == END_REASON_RATE_LIMITED
    assert result.closed_by == "server" and result.greeting_audio_s > 2.0
    assert result.greeting_delay_s is not None and result.greeting_delay_s < CONNECT_S


async def test_a_room_caller_hears_the_fallback_line_when_they_join(livekit, make_emu, tmp_path):
    # The bot joins before its caller: the line waits for them, in place of the greeting.
    emu = await make_emu(faults=Faults(rate_limited=True))
    settings = room_settings(tmp_path).model_copy(update={"realtime_connect_timeout_s": 1.0})
    credentials = agent_credentials(settings, "support")
    task = asyncio.create_task(
        run_room_call(
            room="support",
            credentials=credentials,
            profile=load_profile("default"),
            settings=settings,
            realtime=RealtimeEndpoint(url=emu.url, api_key="sk-test", emulated=True),
            policy=RoomPolicy(leave_grace_s=0.3),
        )
    )
    running_bots.append(task)
    room = livekit.room("support")
    bot = credentials.identity
    await room_wait_until(lambda: bot in room.sources, what="the bot to join and publish")
    await room_wait_until(
        lambda: emu.sessions and all(s.closed for s in emu.sessions), what="the refusals"
    )
    await asyncio.sleep(1.5)  # past the window: the bot has given up and waits for a caller
    assert room.bot_audio_s(bot) == 0, "the line was played to an empty room"
    ada = room.join("ada", name="Ada")
    room.publish_audio(ada)
    record = (await asyncio.wait_for(task, 15)).record
    assert record.end_reason == END_REASON_RATE_LIMITED
    assert [t.text for t in record.transcript] == [load_profile("default").fallback_line]
    assert room.bot_audio_s(bot) > 2.0


@pytest.mark.parametrize("line_codec", ["ulaw", "slin16"])
async def test_an_asterisk_caller_hears_the_fallback_line_at_the_lines_rate(line_codec, tmp_path):
    async with (
        RealtimeEmulator(EmulatorConfig(faults=Faults(rate_limited=True))) as emulator,
        serve_inprocess(
            settings_for(tmp_path), emulator.url, "asterisk", extend=asterisk_lines
        ) as served,
    ):
        url = f"ws://127.0.0.1:{served.port}/asterisk"
        result = await AsteriskWebSocketCall(url, [Silence(10)], line_codec, "json").run()
        await wait_until(lambda: not served.server.active_calls)
    [record] = records(tmp_path / "records")
    assert record["end_reason"] == END_REASON_RATE_LIMITED
    assert result.closed_by == "server" and result.greeting_audio_s > 2.0
    assert result.greeting_delay_s is not None and result.greeting_delay_s < CONNECT_S + 1.0
