"""The spend guard end to end: the real runner.py (restarted between calls), the Realtime
emulator and the phone caller. A cost cap ends a call with the budget line heard; the day's
budget then spent by that call turns the next caller away — also after a restart; /metrics
and `runner.py spend` agree with the records."""

import asyncio
import json
import sys
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from bot.config.profiles import DEFAULT_PROFILES_DIR
from sim.bot_process import REPO, bot_env, run_bot
from sim.phone import PhoneCaller, Say, Silence

pytestmark = pytest.mark.e2e

ORDER = "sim/audio/caller_order_status.wav"
BUDGET_LINE = "I need to wrap up now, thanks for calling."
# The emulator's greeting costs ~$0.0093 at gpt-realtime prices: one reply fits, two do not.
CALL_CAP_USD = 0.013


def capped_profile(tmp_path) -> str:
    profile = yaml.safe_load((DEFAULT_PROFILES_DIR / "default.yaml").read_text())
    profile.update(
        name="capped", max_call_cost_usd=CALL_CAP_USD, budget_line=BUDGET_LINE, max_call_minutes=2
    )
    path = tmp_path / "capped.yaml"
    path.write_text(yaml.safe_dump(profile))
    return str(path)


def cost_counter(text: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "voicebot_cost_usd_total":
                return sample.value
    raise AssertionError("no voicebot_cost_usd_total")


async def webhook_answer(http_url: str) -> ET.Element:
    form = {"CallSid": "CA1", "From": "+15551230000", "To": "+15559870000"}
    async with httpx.AsyncClient() as http:
        answer = await http.post(
            http_url + "/",
            content=urlencode(form),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    return ET.fromstring(answer.text)


async def test_cost_cap_then_daily_budget_across_a_restart(emulator, tmp_path):
    profile = capped_profile(tmp_path)
    args = ("--transport", "twilio", "--realtime-url", emulator.url, "--profile", profile)
    # The day's budget is less than one capped call: that call spends it.
    env = bot_env(tmp_path, DAILY_BUDGET_USD=str(CALL_CAP_USD / 2))
    async with run_bot(tmp_path, *args, env=env) as bot:
        assert (await webhook_answer(bot.http_url)).find(".//Stream") is not None
        result = await PhoneCaller(
            url=bot.ws_url, provider="twilio", steps=[Say(ORDER), Silence(20)]
        ).run()
        [record] = await bot.wait_for_records(1)
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(bot.http_url + "/metrics")).text
            ready = await http.get(bot.http_url + "/ready")
        turned_away = await webhook_answer(bot.http_url)
    bot_lines = [t["text"] for t in record["transcript"] if t["role"] == "bot"]
    assert record["end_reason"] == "budget", record["end_reason"]
    assert bot_lines[-1] == BUDGET_LINE and len(bot_lines) == 2, bot_lines
    assert result.closed_by == "server" and result.bot_audio_total_s > 4.0
    greeting_cost = record["cost_usd"] - CALL_CAP_USD
    assert record["cost_usd"] <= CALL_CAP_USD + max(greeting_cost, 0.01), record["cost_usd"]
    assert cost_counter(metrics) == pytest.approx(record["cost_usd"], abs=1e-9)
    assert ready.status_code == 503
    assert [child.tag for child in turned_away] == ["Say", "Hangup"]

    # A restart reads the day's records again: still turned away.
    async with run_bot(tmp_path, *args, env=env) as restarted:
        after_restart = await webhook_answer(restarted.http_url)
        refused = await PhoneCaller(
            url=restarted.ws_url, provider="twilio", steps=[Silence(1)]
        ).run()
        async with httpx.AsyncClient() as http:
            health = (await http.get(restarted.http_url + "/health")).json()
    assert [child.tag for child in after_restart] == ["Say", "Hangup"]
    assert refused.close_code == 1013 and refused.greeting_audio_s == 0
    assert health["daily_budget"]["exhausted"] and health["daily_budget"]["left_usd"] == 0

    spend = await asyncio.create_subprocess_exec(
        sys.executable,
        "runner.py",
        "spend",
        "--json",
        "--by",
        "profile",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await spend.communicate()
    assert spend.returncode == 0
    [capped, total] = json.loads(stdout)["rows"]
    assert capped["group"] == "capped" and total["calls"] == 1
    assert round(total["cost_usd"], 2) == round(record["cost_usd"], 2)
    assert total["cost_usd"] == pytest.approx(record["cost_usd"], abs=1e-6)
    print(
        f"\ncall ${record['cost_usd']:.5f} (cap ${CALL_CAP_USD}), bot audio "
        f"{result.bot_audio_total_s:.2f}s, spend report ${total['cost_usd']:.6f}"
    )
