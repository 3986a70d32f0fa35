"""`runner.py spend`: the table and the JSON from call records, to the cent of the records."""

import json

import pytest

from bot.call.pricing import TokenUsage
from bot.call.record import CallRecord, append_record
from runner import main


def write(records_dir, day, profile, transport, cost, duration_s, cached=0):
    append_record(
        CallRecord(
            call_id=f"{day}-{profile}",
            transport=transport,
            profile=profile,
            model="gpt-realtime",
            started_at=f"{day}T09:00:00.000+00:00",
            duration_s=duration_s,
            cost_usd=cost,
            usage=TokenUsage(input_text=100, input_audio=300, input_cached=cached),
        ),
        records_dir,
    )


@pytest.fixture
def records_dir(tmp_path):
    write(tmp_path, "2026-11-30", "sales", "twilio", 0.1234, 60)
    write(tmp_path, "2026-12-01", "sales", "telnyx", 0.2, 120, cached=200)
    write(tmp_path, "2026-12-02", "support", "twilio", 0.0071, 30, cached=100)
    write(tmp_path, "2026-12-02", "support", "twilio", None, 6)  # unpriced model
    with open(tmp_path / "calls-2026-12-02.jsonl", "a") as f:
        f.write('{"torn": ')
    return tmp_path


def spend_json(capsys, *args) -> dict:
    assert main(["spend", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_by_profile_matches_the_records(records_dir, capsys):
    report = spend_json(capsys, "--records-dir", str(records_dir), "--by", "profile")
    rows = {row["group"]: row for row in report["rows"]}
    assert list(rows) == ["sales", "support", "total"]
    assert rows["sales"]["calls"] == 2 and rows["sales"]["cost_usd"] == pytest.approx(0.3234)
    assert rows["sales"]["minutes"] == 3.0
    assert rows["sales"]["cost_per_minute_usd"] == pytest.approx(0.1078)
    assert rows["sales"]["cached_input_share"] == 0.25
    assert rows["total"]["calls"] == 4
    assert round(rows["total"]["cost_usd"], 2) == round(0.1234 + 0.2 + 0.0071, 2)


def test_since_and_by_transport(records_dir, capsys):
    args = ["--records-dir", str(records_dir), "--since", "2026-12-01", "--by", "transport"]
    rows = {row["group"]: row for row in spend_json(capsys, *args)["rows"]}
    assert rows["telnyx"]["calls"] == 1 and rows["twilio"]["calls"] == 2
    assert rows["total"]["cost_usd"] == pytest.approx(0.2071)


def test_table_by_day(records_dir, capsys):
    assert main(["spend", "--records-dir", str(records_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["day", "calls", "minutes"]
    assert [line.split()[0] for line in lines[2:5]] == ["2026-11-30", "2026-12-01", "2026-12-02"]
    assert lines[-1].split()[:4] == ["total", "4", "3.60", "0.3305"]
