"""The spend guard on real calls (server and emulator in this process, the simulated phone
over a real socket): a call's cost cap ends it with the budget line heard; a spent daily
budget turns away the webhook with spoken TwiML and the media stream with a reason — after
a restart too — while a call already live finishes; /metrics' cost sums the records'."""

import asyncio
from pathlib import Path
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.call.budget import END_REASON_BUDGET
from bot.call.pricing import load_price_table
from bot.config.echo import EchoGateConfig
from bot.config.profiles import Profile, load_profile
from bot.config.settings import Settings
from bot.spend_report import read_records, summarize
from bot.telephony.daily_budget import DAILY_BUDGET_REFUSAL_LINE
from sim.phone import CallResult, Hangup, PhoneCaller, Say, Silence
from sim.realtime import EmulatorConfig, RealtimeEmulator
from tests.helpers.inprocess_server import InProcessServer, serve_inprocess
from tests.helpers.served_calls import phone_call, records, wait_until

CALLER_WAV = "sim/audio/caller_order_status.wav"
BUDGET_LINE = "I need to wrap up now, thanks for calling."
FORM = {"CallSid": "CA1", "From": "+15551230000", "To": "+15559870000"}


def with_profile(served: InProcessServer, profile: Profile) -> None:
    served.server.config.profile = profile


async def measured_greeting(served: InProcessServer, records_dir: Path) -> tuple[CallResult, float]:
    """One uncapped call that hangs up after the greeting: its result and the greeting's cost
    (the caps below are set from it)."""
    served.server.config.prices = load_price_table()
    uncapped = await phone_call(served, [Hangup(after_bot_audio_s=0.3)])
    await wait_until(lambda: not served.server.active_calls)
    greeting_cost = records(records_dir)[0]["cost_usd"]
    assert greeting_cost > 0
    return uncapped, greeting_cost


async def test_cost_cap_says_the_budget_line_and_ends_the_call(tmp_path):
    records_dir = tmp_path / "records"
    settings = Settings(_env_file=None, records_dir=records_dir)
    async with (
        RealtimeEmulator(EmulatorConfig()) as emulator,
        serve_inprocess(settings, emulator.url) as served,
    ):
        # Measure one reply (the greeting) on an uncapped call, then cap below two of them.
        uncapped, greeting_cost = await measured_greeting(served, records_dir)
        cap = 1.5 * greeting_cost
        profile = load_profile("default").model_copy(
            update={"max_call_cost_usd": cap, "budget_line": BUDGET_LINE}
        )
        with_profile(served, profile)
        result = await phone_call(served, [Say(CALLER_WAV), Silence(20)])
        await wait_until(lambda: not served.server.active_calls)
    record = records(records_dir)[-1]
    bot_lines = [t["text"] for t in record["transcript"] if t["role"] == "bot"]
    assert record["end_reason"] == END_REASON_BUDGET, record["end_reason"]
    assert bot_lines[-1] == BUDGET_LINE, bot_lines
    assert len(bot_lines) == 2, "the budget line comes right after the first reply"
    assert result.closed_by == "server"
    # The caller heard the line before the hang-up: more audio than the greeting alone.
    assert result.bot_audio_total_s > uncapped.bot_audio_total_s + 1.0
    assert record["cost_usd"] <= cap + greeting_cost * 1.5, (record["cost_usd"], cap)
    print(
        f"\ngreeting ${greeting_cost:.5f}, cap ${cap:.5f}, call ${record['cost_usd']:.5f}, "
        f"bot audio {result.bot_audio_total_s:.2f}s (greeting {uncapped.bot_audio_total_s:.2f}s)"
    )


async def test_the_caller_talking_over_the_budget_line_gets_no_reply_after_it(tmp_path):
    # The line is the call's last reply: a turn the caller ends after it was asked for gets
    # no reply of its own (it would cost past the cap and be cut off by the hang-up).
    records_dir = tmp_path / "records"
    settings = Settings(_env_file=None, records_dir=records_dir)
    async with (
        RealtimeEmulator(EmulatorConfig()) as emulator,
        serve_inprocess(settings, emulator.url) as served,
    ):
        _, greeting_cost = await measured_greeting(served, records_dir)
        # No echo gate, so the model hears the caller over the bot's audio whatever the
        # gate would make of it (the simulated line has no echo).
        profile = load_profile("default").model_copy(
            update={
                "max_call_cost_usd": 1.5 * greeting_cost,
                "budget_line": BUDGET_LINE,
                "echo_gate": EchoGateConfig(mode="off"),
            }
        )
        with_profile(served, profile)
        # The caller talks over the greeting (not waiting for it to end): the cap trips
        # while they talk, and their turn ends after the budget line's reply is done.
        steps = [Silence(1.0), Say(CALLER_WAV), Silence(20)]
        caller = PhoneCaller(
            url=served.ws_url, provider="twilio", steps=steps, wait_for_greeting_s=0
        )
        result = await caller.run()
        await wait_until(lambda: not served.server.active_calls)
        session = emulator.sessions[-1]
    record = records(records_dir)[-1]
    bot_lines = [t["text"] for t in record["transcript"] if t["role"] == "bot"]
    assert record["end_reason"] == END_REASON_BUDGET, record["end_reason"]
    assert bot_lines[1:] == [BUDGET_LINE], bot_lines
    # Two replies asked for: the greeting (cut short by the caller) and the budget line.
    assert len(session.responses) == 2 and session.responses[-1]["status"] == "completed"
    assert result.closed_by == "server"


def metric(served_text: str, metric_name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(served_text):
        for sample in family.samples:
            if sample.name == metric_name and sample.labels == labels:
                return sample.value
    raise AssertionError(f"{metric_name}{labels} not in /metrics")


async def get_metrics(http: httpx.AsyncClient) -> str:
    return (await http.get("/metrics")).text


async def test_cost_counter_is_the_sum_of_the_records(tmp_path):
    records_dir = tmp_path / "records"
    settings = Settings(_env_file=None, records_dir=records_dir)
    async with (
        RealtimeEmulator(EmulatorConfig()) as emulator,
        serve_inprocess(settings, emulator.url) as served,
        httpx.AsyncClient(base_url=served.http_url) as http,
    ):
        served.server.config.prices = load_price_table()
        await asyncio.gather(
            phone_call(served, [Say(CALLER_WAV), Hangup(after_bot_audio_s=0.5)]),
            phone_call(served, [Hangup(after_bot_audio_s=0.3)]),
        )
        await wait_until(lambda: not served.server.active_calls)
        text = await get_metrics(http)
    costs = [r["cost_usd"] for r in records(records_dir)]
    assert len(costs) == 2 and all(c > 0 for c in costs)
    assert metric(text, "voicebot_cost_usd_total") == pytest.approx(sum(costs), abs=1e-9)
    audio_out = sum(r["usage"]["output_audio"] for r in records(records_dir))
    assert metric(text, "voicebot_tokens_total", kind="audio_out") == audio_out
    # rate_limits.updated is tracked per call and its latest value exposed.
    remaining = records(records_dir)[-1]["realtime"]["rate_limits"]["requests"]["remaining"]
    assert remaining is not None
    assert metric(text, "voicebot_realtime_rate_limit_remaining", name="requests") >= 0
    report = summarize(read_records(records_dir), "profile")
    assert report[-1].calls == 2
    assert round(report[-1].cost_usd, 2) == round(sum(costs), 2)
    assert report[-1].cost_usd == pytest.approx(sum(costs), abs=1e-9)


def spend_the_day(records_dir: Path, cost_usd: float) -> None:
    """A record another worker (or yesterday's process, before a restart) wrote today."""
    from bot.call.record import CallRecord, append_record, utc_now_iso

    record = CallRecord(
        call_id="earlier",
        transport="twilio",
        profile="default",
        model="gpt-realtime",
        started_at=utc_now_iso(),
        cost_usd=cost_usd,
    )
    append_record(record, records_dir)


async def assert_turned_away(served: InProcessServer) -> None:
    async with httpx.AsyncClient(base_url=served.http_url) as http:
        answer = await http.post(
            "/",
            content=urlencode(FORM),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        root = ET.fromstring(answer.text)
        assert [child.tag for child in root] == ["Say", "Hangup"], answer.text
        assert root[0].text == DAILY_BUDGET_REFUSAL_LINE
        ready = await http.get("/ready")
        assert ready.status_code == 503 and "daily budget" in ready.json()["reason"]
        health = (await http.get("/health")).json()
        assert health["daily_budget"]["left_usd"] == 0 and health["daily_budget"]["exhausted"]
        result = await phone_call(served, [Silence(1)])
        assert result.close_code == 1013 and result.greeting_audio_s == 0
        text = await get_metrics(http)
        assert metric(text, "voicebot_calls_refused_total", reason="budget") == 2
        assert metric(text, "voicebot_daily_budget_left_usd") == 0
    assert "daily budget spent" in served.log_text()


async def test_spent_daily_budget_turns_new_calls_away_also_after_a_restart(tmp_path):
    records_dir = tmp_path / "records"
    spend_the_day(records_dir, 0.75)
    settings = Settings(_env_file=None, records_dir=records_dir, daily_budget_usd=0.5)
    async with RealtimeEmulator(EmulatorConfig()) as emulator:
        async with serve_inprocess(settings, emulator.url) as served:
            await assert_turned_away(served)
        async with serve_inprocess(settings, emulator.url) as restarted:
            await assert_turned_away(restarted)
    assert len(records(records_dir)) == 1, "no refused call left a record"


async def test_a_call_live_when_the_budget_runs_out_finishes(tmp_path):
    records_dir = tmp_path / "records"
    settings = Settings(_env_file=None, records_dir=records_dir, daily_budget_usd=0.5)
    async with (
        RealtimeEmulator(EmulatorConfig()) as emulator,
        serve_inprocess(settings, emulator.url) as served,
    ):
        served.server.config.prices = load_price_table()
        live = asyncio.create_task(
            phone_call(served, [Say(CALLER_WAV), Hangup(after_bot_audio_s=0.5)])
        )
        await wait_until(lambda: served.server.active_calls)
        spend_the_day(records_dir, 0.6)  # another worker's calls use the rest of the day
        assert served.server.daily.refusal() is not None
        result = await live
        await wait_until(lambda: not served.server.active_calls)
    assert result.closed_by == "caller"
    assert result.turns[0].first_bot_audio_s is not None, "the live call got its reply"
    assert records(records_dir)[-1]["end_reason"] == "caller hung up"


async def test_max_realtime_sessions_turns_the_next_call_away(tmp_path):
    records_dir = tmp_path / "records"
    settings = Settings(_env_file=None, records_dir=records_dir, max_realtime_sessions=1)
    async with (
        RealtimeEmulator(EmulatorConfig()) as emulator,
        serve_inprocess(settings, emulator.url) as served,
        httpx.AsyncClient(base_url=served.http_url) as http,
    ):
        live = asyncio.create_task(phone_call(served, [Hangup(after_bot_audio_s=0.3)]))
        await wait_until(lambda: served.server.active_calls)
        answer = await http.post(
            "/",
            content=urlencode(FORM),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        assert [child.tag for child in ET.fromstring(answer.text)] == ["Say", "Hangup"]
        refused = await phone_call(served, [Silence(1)])
        assert refused.close_code == 1013 and refused.greeting_audio_s == 0
        assert (await live).greeting_audio_s > 0, "the call holding the session goes on"
        await wait_until(lambda: not served.server.active_calls)
        text = await get_metrics(http)
        assert metric(text, "voicebot_calls_refused_total", reason="realtime_sessions") == 2
        # The slot is free again once the call has ended.
        assert served.server.realtime_sessions.available()
    assert "MAX_REALTIME_SESSIONS" in served.log_text()


async def test_profile_minutes_override_the_server_duration(tmp_path):
    records_dir = tmp_path / "records"
    settings = Settings(_env_file=None, records_dir=records_dir, max_call_duration_s=3600)
    async with (
        RealtimeEmulator(EmulatorConfig()) as emulator,
        serve_inprocess(settings, emulator.url) as served,
    ):
        with_profile(served, load_profile("default").model_copy(update={"max_call_minutes": 0.05}))
        result = await phone_call(served, [Silence(20)])
        await wait_until(lambda: not served.server.active_calls)
    assert result.closed_by == "server" and result.duration_s < 6
    assert records(records_dir)[-1]["end_reason"] == "max call duration reached (3 s)"
