"""The Realtime rate limit after the session is open, on real calls (server and emulator in
this process, the simulated phone over a real socket): a reply refused by the limit is
asked for again within the connect timeout; a limit that does not lift gets the recorded
fallback line (not the model's, which would be refused too) and the call ends "rate
limited", counted on /metrics; a limit that lifts gives the reply as usual; a parallel call
on a healthy session is unaffected."""

import asyncio
from pathlib import Path

import httpx

from bot.call.fallback_prompt import BUNDLED_FALLBACK_AUDIO, END_REASON_RATE_LIMITED
from bot.config.profiles import load_profile
from sim.phone import Say, Silence
from sim.realtime import EmulatorConfig, Faults, RealtimeEmulator
from tests.helpers.inprocess_server import serve_inprocess
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
THANKS = "sim/audio/caller_thanks.wav"
GREETING = "sim/audio/bot_greeting.wav"
FALLBACK_LINE = load_profile("default").fallback_line
FOREVER = 1000  # refusals: a limit that does not lift during the call


def refusal_times(session) -> list[float]:
    """When the emulator sent each response.done that refused a reply for the limit."""
    return [
        at
        for event, at in zip(session.server_events, session.server_event_times, strict=True)
        if event["type"] == "response.done" and event["response"]["status"] == "failed"
    ]


async def test_a_greeting_refused_by_the_limit_plays_the_recorded_line_beside_a_healthy_call(
    tmp_path,
):
    # Connection 0 is the healthy call's session; every later session refuses every reply.
    config = EmulatorConfig(
        faults=Faults(rate_limited_responses=FOREVER), faults_for_connection={0: Faults()}
    )
    heard = tmp_path / "heard.wav"
    async with (
        RealtimeEmulator(config) as emulator,
        serve_inprocess(settings_for(tmp_path), emulator.url) as served,
        httpx.AsyncClient(base_url=served.http_url) as http,
    ):
        healthy = asyncio.create_task(phone_call(served, [Silence(7), Say(ORDER), Silence(7)]))
        await wait_until(lambda: emulator.sessions and emulator.sessions[0].items)
        limited = await phone_call(served, [Silence(15)], record_path=heard)
        healthy_result = await healthy
        await wait_until(lambda: not served.server.active_calls)
        text = (await http.get("/metrics")).text
        sessions = list(emulator.sessions)
    by_reason = {r["end_reason"]: r for r in records(tmp_path / "records")}
    record = by_reason[END_REASON_RATE_LIMITED]

    # One session, its greeting asked for again with backoff within the connect timeout.
    [session] = [s for s in sessions if s.index > 0]
    refused = refusal_times(session)
    assert len(refused) >= 2 and refused[-1] - refused[0] < CONNECT_S
    assert len(session.responses) == len(refused), "the model was never asked for its line"
    assert not [e for s in sessions for e in s.conformance_errors]
    # The caller hears the recorded line, not silence, and the bot hangs up after it.
    assert limited.closed_by == "server" and limited.greeting_audio_s > 2.0
    assert likeness(heard, BUNDLED_FALLBACK_AUDIO) > 0.8 > likeness(heard, Path(GREETING))
    assert limited.greeting_delay_s is not None
    assert limited.greeting_delay_s < CONNECT_S + 1.5, limited.greeting_delay_s
    assert [t["text"] for t in record["transcript"]] == [FALLBACK_LINE]
    assert record["realtime"]["fallback_lines"] == 0 and record["realtime"]["sessions"] == 1
    assert any(e["source"] == "rate_limit" for e in record["events"])
    assert metric(text, "voicebot_realtime_rate_limited_total") == 1
    assert metric(text, "voicebot_calls_ended_total", reason="rate_limited") == 1

    # The parallel call: greeted and answered as usual.
    assert healthy_result.closed_by == "caller" and healthy_result.greeting_audio_s > 1.0
    assert healthy_result.turns[0].bot_audio_s > 1.0
    assert by_reason["caller hung up"]["realtime"]["sessions"] == 1
    print(
        f"\nreply rate limited: {len(refused)} refusals over {refused[-1] - refused[0]:.2f}s, "
        f"fallback heard {limited.greeting_delay_s:.2f}s after the call started"
    )


async def test_a_greeting_refused_once_then_a_normal_greeting(tmp_path):
    config = EmulatorConfig(faults=Faults(rate_limited_responses=1, retry_after_s=0.3))
    heard = tmp_path / "heard.wav"
    async with (
        RealtimeEmulator(config) as emulator,
        serve_inprocess(settings_for(tmp_path), emulator.url) as served,
    ):
        result = await phone_call(served, [Silence(5), Say(ORDER), Silence(6)], record_path=heard)
        await wait_until(lambda: not served.server.active_calls)
        [session] = emulator.sessions
    [record] = records(tmp_path / "records")
    assert [r["status"] for r in session.responses][:3] == ["failed", "completed", "completed"]
    assert result.greeting_audio_s > 1.0 and result.turns[0].bot_audio_s > 1.0
    assert likeness(heard, Path(GREETING)) > 0.8 > likeness(heard, BUNDLED_FALLBACK_AUDIO)
    assert record["end_reason"] == "caller hung up"
    assert FALLBACK_LINE not in [t["text"] for t in record["transcript"]]
    assert record["realtime"]["fallback_lines"] == 0
    assert "reply refused (rate limited (rate_limit_exceeded, retry in 0.3s))" in (
        served.log_text()
    )


async def test_a_reply_refused_by_the_limit_mid_call_ends_with_the_recorded_line(tmp_path):
    # The greeting and the first turn's reply get through; from the second turn on, the
    # limit refuses every reply.
    limited = Faults(rate_limited_responses=FOREVER, rate_limited_responses_after=2)
    heard = tmp_path / "heard.wav"
    async with (
        RealtimeEmulator(EmulatorConfig(faults=limited)) as emulator,
        serve_inprocess(settings_for(tmp_path), emulator.url) as served,
    ):
        steps = [Silence(5), Say(ORDER), Silence(6), Say(THANKS), Silence(12)]
        result = await phone_call(served, steps, record_path=heard)
        await wait_until(lambda: not served.server.active_calls)
        [session] = emulator.sessions
    [record] = records(tmp_path / "records")
    statuses = [r["status"] for r in session.responses]
    assert statuses[:2] == ["completed", "completed"] and set(statuses[2:]) == {"failed"}
    refused = refusal_times(session)
    assert len(refused) >= 2 and refused[-1] - refused[0] < CONNECT_S
    assert not session.conformance_errors
    # The first turn was answered; the second is told, then the bot hangs up.
    assert result.turns[0].bot_audio_s > 1.0
    assert result.closed_by == "server"
    assert likeness(heard, BUNDLED_FALLBACK_AUDIO) > 0.8
    assert record["end_reason"] == END_REASON_RATE_LIMITED
    bot_lines = [t["text"] for t in record["transcript"] if t["role"] == "bot"]
    assert len(bot_lines) == 3 and bot_lines[-1] == FALLBACK_LINE
    assert record["realtime"]["fallback_lines"] == 0
