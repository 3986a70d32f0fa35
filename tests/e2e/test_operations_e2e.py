"""Operations, end to end: /metrics, /ready, SIGTERM drain and several workers, with the real
runner.py, the Realtime emulator and phone callers over real sockets."""

import asyncio
import signal

import httpx
import pytest

from sim.bot_process import bot_env, run_bot
from sim.phone import PhoneCaller, Say, Silence

pytestmark = pytest.mark.e2e

ORDER = "sim/audio/caller_order_status.wav"
THANKS = "sim/audio/caller_thanks.wav"


def two_turn_call(url: str) -> PhoneCaller:
    return PhoneCaller(
        url=url, provider="twilio", steps=[Say(ORDER), Silence(2.5), Say(THANKS), Silence(2.5)]
    )


def metric(text: str, name: str) -> float:
    """The value of an unlabelled sample in Prometheus text format."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics:\n{text}")


async def wait_for_active(client: httpx.AsyncClient, url: str, count: int) -> None:
    for _ in range(200):
        if (await client.get(f"{url}/health")).json()["active_calls"] >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {count} active calls")


async def test_metrics_move_with_calls(emulator, tmp_path):
    env = bot_env(tmp_path, LOG_LEVEL="INFO")
    args = ("--transport", "twilio", "--realtime-url", emulator.url)
    async with run_bot(tmp_path, *args, env=env) as bot, httpx.AsyncClient() as client:
        before = (await client.get(f"{bot.http_url}/metrics")).text
        assert metric(before, "voicebot_calls_total") == 0
        call = asyncio.create_task(two_turn_call(bot.ws_url).run())
        await wait_for_active(client, bot.http_url, 1)
        during = (await client.get(f"{bot.http_url}/metrics")).text
        result = await call
        [record] = await bot.wait_for_records(1)
        after = (await client.get(f"{bot.http_url}/metrics")).text
    assert result.connected and all(t.latency_s is not None for t in result.turns)
    assert metric(during, "voicebot_active_calls") == 1
    assert metric(after, "voicebot_active_calls") == 0
    assert metric(after, "voicebot_calls_total") == 1
    # Each turn the call record timed is one histogram sample.
    assert metric(after, "voicebot_turn_latency_seconds_count") == len(record["turns"]) >= 1
    assert 'voicebot_calls_ended_total{reason="caller_hung_up"} 1.0' in after
    # No sample names a call: the series stay fixed however many calls pass.
    assert result.call_sid not in after


async def test_sigterm_drains_live_calls_then_exits_zero(emulator, tmp_path):
    env = bot_env(tmp_path, LOG_LEVEL="INFO", DRAIN_TIMEOUT_S="60")
    args = ("--transport", "twilio", "--realtime-url", emulator.url)
    async with run_bot(tmp_path, *args, env=env) as bot, httpx.AsyncClient() as client:
        calls = [asyncio.create_task(two_turn_call(bot.ws_url).run()) for _ in range(10)]
        await wait_for_active(client, bot.http_url, 10)
        bot.proc.send_signal(signal.SIGTERM)
        await asyncio.sleep(0.5)
        ready = await client.get(f"{bot.http_url}/ready")
        health = await client.get(f"{bot.http_url}/health")
        late = await PhoneCaller(url=bot.ws_url, provider="twilio", steps=[Silence(1)]).run()
        results = await asyncio.gather(*calls)
        for _ in range(100):
            if bot.proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        records = bot.records()
        log = bot.log()
    assert ready.status_code == 503 and ready.json()["ready"] is False
    assert health.status_code == 200 and health.json()["status"] == "draining"
    assert late.close_code == 1013 and late.greeting_delay_s is None
    assert "refusing a media stream (1013): server draining" in log
    for result in results:
        assert result.connected and result.closed_by == "caller", result.errors
        assert [t.latency_s is not None for t in result.turns] == [True, True]
    assert len(records) == 10
    assert {r["end_reason"] for r in records} == {"caller hung up"}
    assert bot.proc.returncode == 0, log[-2000:]


async def test_workers_share_the_port_and_the_metrics(emulator, tmp_path):
    env = bot_env(tmp_path, LOG_LEVEL="INFO")
    args = ("--transport", "twilio", "--realtime-url", emulator.url, "--workers", "2")
    async with run_bot(tmp_path, *args, env=env) as bot, httpx.AsyncClient() as client:
        results = await asyncio.gather(*(two_turn_call(bot.ws_url).run() for _ in range(4)))
        records = await bot.wait_for_records(4)
        scraped = (await client.get(f"{bot.http_url}/metrics")).text
        bot.proc.send_signal(signal.SIGTERM)
        for _ in range(100):
            if bot.proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
    for result in results:
        assert result.connected and [t.latency_s is not None for t in result.turns] == [True] * 2
    assert len({r["call_id"] for r in records}) == 4
    # Whichever worker answered the scrape, it reports all workers' calls.
    assert metric(scraped, "voicebot_calls_total") == 4
    assert bot.proc.returncode == 0
