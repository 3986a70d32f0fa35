"""Spend guard pieces on their own: the per-call cap's look-ahead, the day's spend read from
the records (incrementally, across a day change, torn lines ignored), the refusal markup,
the per-profile duration, and the spend metrics summing the records' costs."""

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.call.budget import END_REASON_BUDGET, CallBudget
from bot.call.pricing import TokenUsage
from bot.call.record import CallRecord, append_record
from bot.telephony.daily_budget import DailySpend
from bot.telephony.limits import CallLimits
from bot.telephony.metrics import BotMetrics, end_reason_class
from bot.telephony.webhook_answers import spoken_refusal


def test_call_budget_trips_once_when_the_next_reply_would_cross_the_cap():
    budget = CallBudget(cap_usd=0.05)
    assert not budget.after_reply(0.02)  # 0.02 + 0.02 ≤ 0.05
    assert budget.after_reply(0.04)  # 0.04 + 0.02 > 0.05
    assert not budget.after_reply(0.06)  # once only
    assert budget.tripped and budget.dearest_reply_usd == pytest.approx(0.02)


def test_call_budget_zero_is_no_cap():
    budget = CallBudget(cap_usd=0)
    assert not any(budget.after_reply(x) for x in (1.0, 100.0, 10_000.0))


def write_record(records_dir: Path, day: str, cost: float | None, call_id: str = "c") -> None:
    record = CallRecord(
        call_id=call_id,
        transport="twilio",
        profile="default",
        model="gpt-realtime",
        started_at=f"{day}T10:00:00.000+00:00",
        cost_usd=cost,
    )
    append_record(record, records_dir)


def test_daily_spend_sums_the_days_records_incrementally_and_adds_live_calls(tmp_path):
    live = [0.0]
    day = ["2026-12-02"]
    spend = DailySpend(tmp_path, 1.0, live_cost_usd=lambda: live[0], today=lambda: day[0])
    assert spend.status().spent_usd == 0 and spend.refusal() is None
    write_record(tmp_path, "2026-12-01", 5.0)  # another day: not counted
    write_record(tmp_path, "2026-12-02", 0.3)
    write_record(tmp_path, "2026-12-02", None)  # unpriced model
    assert spend.status().spent_usd == pytest.approx(0.3)
    write_record(tmp_path, "2026-12-02", 0.5)
    live[0] = 0.1
    status = spend.status()
    assert status.spent_usd == pytest.approx(0.9) and status.left_usd == pytest.approx(0.1)
    # A torn line (a write in progress) waits for its newline; a foreign line counts nothing.
    with open(tmp_path / "calls-2026-12-02.jsonl", "ab") as f:
        f.write(b"not json\n" + json.dumps({"cost_usd": 0.2}).encode()[:-2])
    assert spend.status().spent_usd == pytest.approx(0.9)
    with open(tmp_path / "calls-2026-12-02.jsonl", "ab") as f:
        f.write(b"2}\n")
    status = spend.status()
    assert status.exhausted and status.left_usd == 0
    assert "DAILY_BUDGET_USD" in (spend.refusal() or "")
    # A fresh process (a restart) reads the same day from the start.
    restarted = DailySpend(tmp_path, 1.0, today=lambda: day[0])
    assert restarted.status().spent_usd == pytest.approx(1.0)
    day[0] = "2026-12-03"  # a new UTC day starts from nothing
    live[0] = 0.0
    assert spend.status().spent_usd == 0 and spend.refusal() is None


def test_daily_spend_warns_once_at_80_percent(tmp_path):
    from loguru import logger

    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level="WARNING")
    try:
        spend = DailySpend(tmp_path, 1.0, today=lambda: "2026-12-02")
        write_record(tmp_path, "2026-12-02", 0.79)
        spend.status()
        write_record(tmp_path, "2026-12-02", 0.02)
        spend.status()
        spend.status()
    finally:
        logger.remove(sink)
    assert sum("daily budget" in line for line in lines) == 1


@pytest.mark.parametrize(
    ("provider", "verb"), [("twilio", "Say"), ("telnyx", "Say"), ("plivo", "Speak")]
)
def test_spoken_refusal_says_a_line_and_hangs_up(provider, verb):
    root = ET.fromstring(spoken_refusal(provider, "Sorry & goodbye") or "")
    assert [child.tag for child in root] == [verb, "Hangup"]
    assert root[0].text == "Sorry & goodbye"
    assert spoken_refusal("exotel", "x") is None


def test_profile_minutes_override_the_server_duration():
    limits = CallLimits(max_concurrent_calls=1, max_call_duration_s=3600, idle_timeout_s=15)
    assert limits.for_profile(0) is limits
    assert limits.for_profile(2.5).max_call_duration_s == 150


def test_spend_metrics_sum_the_records():
    metrics = BotMetrics()
    records = []
    for cost, reason in ((0.0123, "caller hung up"), (0.2, END_REASON_BUDGET), (None, "x")):
        record = CallRecord(
            call_id="c",
            transport="twilio",
            profile="p",
            model="m",
            started_at="2026-12-02T00:00:00+00:00",
            end_reason=reason,
            cost_usd=cost,
            usage=TokenUsage(input_text=10, input_audio=20, input_cached=5, output_audio=7),
        )
        records.append(record)
        metrics.call_started()
        metrics.call_ended(record)
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.exposition()[0].decode())
        for s in family.samples
    }
    assert samples[("voicebot_cost_usd_total", ())] == pytest.approx(0.2123)
    assert samples[("voicebot_tokens_total", (("kind", "audio_in"),))] == 60
    assert samples[("voicebot_tokens_total", (("kind", "cached_in"),))] == 15
    assert samples[("voicebot_tokens_total", (("kind", "text_out"),))] == 0
    assert samples[("voicebot_budget_endings_total", ())] == 1
    assert end_reason_class(END_REASON_BUDGET) == "budget"
