"""A Realtime connection that survives, end to end: the real runner.py, the phone caller and
the Realtime emulator injecting drops, a short session cap and a slow model."""

import asyncio
import itertools
import random
import statistics

import httpx
import pytest

from sim.bot_process import bot_env, run_bot
from sim.phone import PhoneCaller, Say, Silence
from sim.realtime import EmulatorConfig, Faults, RealtimeEmulator
from sim.realtime.server import CLOSE_GOING_AWAY

pytestmark = pytest.mark.e2e

ORDER = "sim/audio/caller_order_status.wav"
THANKS = "sim/audio/caller_thanks.wav"
FALLBACK = "I'm sorry, I'm having trouble right now."


def _text(item: dict) -> str | None:
    for part in item.get("content") or []:
        text = part.get("text") if part.get("text") is not None else part.get("transcript")
        if text:
            return text
    return None


def _lost_items(before: list[dict], after: list[dict]) -> list[str]:
    """Items of the old session the new one does not hold (by id, kind, role, call, words).

    A reply cut before any word reached the bot said nothing, so nothing is owed for it.
    """
    by_id = {item["id"]: item for item in after}
    lost = []
    for old in before:
        if old.get("role") == "assistant" and not _text(old) and old.get("status") != "completed":
            continue
        new = by_id.get(old["id"])
        if new is None:
            lost.append(f"{old['id']} ({old.get('role') or old['type']}: {_text(old)!r}) missing")
            continue
        for key in ("type", "role", "call_id", "name", "arguments", "output"):
            if old.get(key) != new.get(key):
                lost.append(f"{old['id']}: {key} {old.get(key)!r} != {new.get(key)!r}")
        # Words, not spacing: a reply cut mid-stream ends in the space before its next word,
        # and the bot restates what was heard, trimmed.
        if _text(old) is not None and _text(old).split() != (_text(new) or "").split():
            lost.append(f"{old['id']}: text {_text(old)!r} != {_text(new)!r}")
    return lost


def _sessions_by_call(emu: RealtimeEmulator) -> list[list]:
    """Group emulator sessions into calls: every session of a call starts with the same
    greeting item (the bot restates it, with its id, into each new session)."""
    calls: dict[str, list] = {}
    for session in emu.sessions:
        if session.items:
            calls.setdefault(session.items[0]["id"], []).append(session)
    return list(calls.values())


def _assert_conversation_kept(emu: RealtimeEmulator) -> int:
    switches = 0
    for sessions in _sessions_by_call(emu):
        for old, new in itertools.pairwise(sessions):
            assert not _lost_items(old.items, new.items), _lost_items(old.items, new.items)
            switches += 1
    return switches


def _script(turns: int, pause_s: float) -> list:
    steps = []
    for i in range(turns):
        steps += [Say(ORDER if i % 2 == 0 else THANKS), Silence(pause_s)]
    return steps


def _assert_every_turn_answered(result) -> None:
    assert result.connected and result.closed_by == "caller", result.errors
    assert result.greeting_audio_s > 1.0
    for turn in result.turns:
        assert turn.latency_s is not None, f"{turn.utterance} at {turn.start_s:.1f}s unanswered"
        assert turn.bot_audio_s > 1.0


async def test_twenty_socket_drops_lose_no_turn_and_no_item(tmp_path):
    rng = random.Random(6)
    drops = {i: Faults(drop_after_s=round(rng.uniform(1.0, 4.0), 2)) for i in range(26)}
    config = EmulatorConfig(faults_for_connection=drops)
    async with RealtimeEmulator(config) as emu:
        async with run_bot(tmp_path, "--transport", "twilio", "--realtime-url", emu.url) as bot:
            callers = [PhoneCaller(bot.ws_url, "twilio", steps=_script(3, 6.5)) for _ in range(4)]
            results = await asyncio.gather(*(c.run() for c in callers))
            records = await bot.wait_for_records(4)
        dropped = [s for s in emu.sessions if s.close_code == 1006]
        switches = _assert_conversation_kept(emu)
        assert not [e for s in emu.sessions for e in s.conformance_errors]
    for result in results:
        _assert_every_turn_answered(result)
    reconnects = [r for rec in records for r in rec["realtime"]["reconnects"]]
    assert len(dropped) >= 20
    assert len(reconnects) == len(dropped) and switches >= len(dropped)
    assert all(rec["end_reason"] == "caller hung up" for rec in records)
    seconds = sorted(r["seconds"] for r in reconnects)
    p95 = statistics.quantiles(seconds, n=20)[-1]
    print(
        f"\n{len(dropped)} drops, reconnect p50 {statistics.median(seconds):.3f}s "
        f"p95 {p95:.3f}s max {seconds[-1]:.3f}s"
    )
    assert p95 <= 2.0  # the bound: reconnect time p95 ≤ 2 s


async def test_session_cap_rolls_over_between_turns(tmp_path):
    async with RealtimeEmulator(EmulatorConfig(session_cap_s=20)) as emu:
        env = bot_env(tmp_path, REALTIME_ROLLOVER_LEAD_S="10")
        async with run_bot(
            tmp_path, "--transport", "twilio", "--realtime-url", emu.url, env=env
        ) as bot:
            caller = PhoneCaller(bot.ws_url, "twilio", steps=_script(6, 8.5))
            result = await caller.run()
            [record] = await bot.wait_for_records(1)
        sessions = list(emu.sessions)
        switches = _assert_conversation_kept(emu)
    _assert_every_turn_answered(result)
    assert result.duration_s >= 65
    rollovers = record["realtime"]["rollovers"]
    assert len(rollovers) >= 3 and switches == len(rollovers)
    assert record["realtime"]["reconnects"] == []
    assert all(r["gap_s"] >= 0 for r in rollovers)
    # Every replaced session was closed by the bot before the cap, never by the server.
    assert all(s.close_code != CLOSE_GOING_AWAY for s in sessions[:-1])
    caller_speech = [(t.start_s, t.end_of_utterance_s) for t in result.turns]
    for session in sessions[:-1]:
        at = session.closed_at - result.started_at_unix
        for start, end in caller_speech + [tuple(s) for s in result.bot_heard_s]:
            assert not start - 0.1 <= at <= end + 0.1, f"switch at {at:.2f}s during {start}-{end}"
    print(f"\nrollovers: {[r['gap_s'] for r in rollovers]} s gaps")


async def test_slow_first_audio_is_retried_once_then_the_fallback_line_is_said(tmp_path):
    config = EmulatorConfig(faults=Faults(first_audio_delay_s=2.0))
    async with RealtimeEmulator(config) as emu:
        env = bot_env(tmp_path, REALTIME_FIRST_AUDIO_TIMEOUT_S="0.8")
        async with run_bot(
            tmp_path, "--transport", "twilio", "--realtime-url", emu.url, env=env
        ) as bot:
            result = await PhoneCaller(bot.ws_url, "twilio", steps=[Silence(1.0)]).run()
            [record] = await bot.wait_for_records(1)
            log = bot.log()
        [session] = emu.sessions
    creates = [e for e in session.client_events if e["type"] == "response.create"]
    assert len(creates) == 3
    assert FALLBACK in creates[-1]["response"]["instructions"]
    assert [c["reason"] for c in session.cancellations] == ["client_cancelled"] * 2
    assert result.greeting_audio_s > 1.0  # the caller heard the fallback line
    health = record["realtime"]
    assert health["timeouts"]["first_audio"] == 2
    assert health["responses_retried"] == 1 and health["fallback_lines"] == 1
    assert [t["text"] for t in record["transcript"] if t["role"] == "bot"] == [FALLBACK]
    assert "re-requesting the reply once" in log and "saying the fallback" in log


async def test_a_rejected_key_ends_the_call_at_once_with_one_line(tmp_path):
    async with RealtimeEmulator(EmulatorConfig(faults=Faults(bad_key=True))) as emu:
        async with run_bot(tmp_path, "--transport", "twilio", "--realtime-url", emu.url) as bot:
            result = await PhoneCaller(bot.ws_url, "twilio", steps=[Silence(3.0)]).run()
            [record] = await bot.wait_for_records(1)
            log = bot.log()
        connections = len(emu.sessions)
    assert connections == 1  # a wrong key is not retried
    assert result.closed_by == "server"
    assert record["end_reason"] == "realtime error: wrong API key (invalid_api_key)"
    assert record["realtime"]["fatal_error"] == "wrong API key (invalid_api_key)"
    assert log.count("Realtime fatal error") == 1


async def test_rate_limit_at_call_start_plays_the_fallback_line_beside_a_healthy_call(tmp_path):
    # Connection 0 is the healthy call's session; every later one is over the rate limit.
    connect_s = 2.0
    config = EmulatorConfig(
        faults=Faults(rate_limited=True, retry_after_s=0.4), faults_for_connection={0: Faults()}
    )
    async with RealtimeEmulator(config) as emu:
        env = bot_env(tmp_path, REALTIME_CONNECT_TIMEOUT_S=str(connect_s))
        async with run_bot(
            tmp_path, "--transport", "twilio", "--realtime-url", emu.url, env=env
        ) as bot:
            healthy = asyncio.create_task(
                PhoneCaller(bot.ws_url, "twilio", steps=[Silence(6), Say(ORDER), Silence(7)]).run()
            )
            async with asyncio.timeout(15):
                while not (emu.sessions and emu.sessions[0].items):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            limited = await PhoneCaller(bot.ws_url, "twilio", steps=[Silence(12)]).run()
            healthy_result = await healthy
            records = await bot.wait_for_records(2)
            async with httpx.AsyncClient() as http:
                metrics = (await http.get(bot.http_url + "/metrics")).text
        refused = [s for s in emu.sessions if s.index > 0]
    by_reason = {r["end_reason"]: r for r in records}
    record = by_reason["rate limited"]
    # Retried after the server's hint (0.4 s) within the connect timeout, then the line.
    assert len(refused) >= 3
    assert refused[-1].connected_at - refused[0].connected_at < connect_s
    assert limited.closed_by == "server" and limited.greeting_audio_s > 2.0
    assert limited.greeting_delay_s is not None and limited.greeting_delay_s < connect_s + 1.0
    assert [t["text"] for t in record["transcript"]] == [FALLBACK]
    assert "voicebot_realtime_rate_limited_total 1.0" in metrics
    assert 'voicebot_calls_ended_total{reason="rate_limited"} 1.0' in metrics
    # The parallel call on its healthy session: greeted and answered as usual.
    assert healthy_result.closed_by == "caller" and healthy_result.turns[0].latency_s is not None
    assert by_reason["caller hung up"]["realtime"]["sessions"] == 1
    print(
        f"\nrate limited: {len(refused)} tries, fallback heard after "
        f"{limited.greeting_delay_s:.2f}s ({limited.greeting_audio_s:.2f}s of it)"
    )


async def test_a_reply_refused_by_the_rate_limit_mid_call_ends_with_the_recorded_line(tmp_path):
    # The greeting and the first reply get through; then the limit refuses every reply,
    # saying when to come back (0.4 s). A parallel call on a healthy session goes on.
    connect_s = 2.0
    limited_faults = Faults(
        rate_limited_responses=1000, rate_limited_responses_after=2, retry_after_s=0.4
    )
    config = EmulatorConfig(faults=limited_faults, faults_for_connection={0: Faults()})
    async with RealtimeEmulator(config) as emu:
        env = bot_env(tmp_path, REALTIME_CONNECT_TIMEOUT_S=str(connect_s))
        async with run_bot(
            tmp_path, "--transport", "twilio", "--realtime-url", emu.url, env=env
        ) as bot:
            healthy = asyncio.create_task(
                PhoneCaller(bot.ws_url, "twilio", steps=_script(2, 7.0)).run()
            )
            async with asyncio.timeout(15):
                while not (emu.sessions and emu.sessions[0].items):  # noqa: ASYNC110
                    await asyncio.sleep(0.05)
            steps = [Silence(5), Say(ORDER), Silence(7), Say(THANKS), Silence(12)]
            limited = await PhoneCaller(bot.ws_url, "twilio", steps=steps).run()
            healthy_result = await healthy
            records = await bot.wait_for_records(2)
            async with httpx.AsyncClient() as http:
                metrics = (await http.get(bot.http_url + "/metrics")).text
        [session] = [s for s in emu.sessions if s.index > 0]
    by_reason = {r["end_reason"]: r for r in records}
    record = by_reason["rate limited"]
    refusals = [r for r in session.responses if r["status"] == "failed"]
    # Asked again after the hint within the connect timeout, then the recorded line.
    assert 3 <= len(refusals) <= 5
    assert limited.turns[0].latency_s is not None and limited.turns[0].bot_audio_s > 1.0
    assert limited.closed_by == "server"
    bot_lines = [t["text"] for t in record["transcript"] if t["role"] == "bot"]
    assert len(bot_lines) == 3 and bot_lines[-1] == FALLBACK
    assert record["realtime"]["fallback_lines"] == 0 and record["realtime"]["sessions"] == 1
    assert "voicebot_realtime_rate_limited_total 1.0" in metrics
    assert 'voicebot_calls_ended_total{reason="rate_limited"} 1.0' in metrics
    _assert_every_turn_answered(healthy_result)
