"""Concurrent-call load benchmark: runner.py + the Realtime emulator + N simulated callers.

Reports caller-side turn latency (end of utterance → first bot audio) per level, and each
level's p50 as a ratio of the single-call p50 measured in the same run (machines here are
shared and noisy, so only same-run ratios mean anything).

    python -m bench.load [--levels 1,10,20] [--provider twilio]
"""

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from pathlib import Path

from sim.bot_process import bot_env, run_bot
from sim.phone import PhoneCaller, Say, Silence
from sim.realtime import EmulatorConfig, RealtimeEmulator

UTTERANCES = ["sim/audio/caller_order_status.wav", "sim/audio/caller_thanks.wav"]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def run_level(url: str, provider: str, calls: int) -> dict:
    steps = [step for clip in UTTERANCES for step in (Say(clip), Silence(3.0))]
    callers = [PhoneCaller(url=url, provider=provider, steps=steps) for _ in range(calls)]
    results = await asyncio.gather(*(caller.run() for caller in callers))
    latencies = [t.latency_s for r in results for t in r.turns if t.latency_s is not None]
    unanswered = sum(1 for r in results for t in r.turns if t.latency_s is None)
    greeting = [r.greeting_delay_s for r in results if r.greeting_delay_s is not None]
    return {
        "calls": calls,
        "failed_calls": sum(1 for r in results if not r.connected or r.errors),
        "unanswered_turns": unanswered,
        "turn_latency_p50_s": percentile(latencies, 0.5),
        "turn_latency_p95_s": percentile(latencies, 0.95),
        "turn_latency_p99_s": percentile(latencies, 0.99),
        "greeting_delay_p50_s": statistics.median(greeting) if greeting else None,
    }


async def main(levels: list[int], provider: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        async with RealtimeEmulator(EmulatorConfig()) as emulator:
            env = bot_env(Path(tmp), LOG_LEVEL="WARNING")
            args = ("--transport", provider, "--realtime-url", emulator.url)
            async with run_bot(Path(tmp), *args, env=env) as bot:
                report = [await run_level(bot.ws_url, provider, n) for n in levels]
    base = report[0]["turn_latency_p50_s"]
    for row in report:
        p50 = row["turn_latency_p50_s"]
        row["p50_vs_first_level"] = round(p50 / base, 2) if p50 and base else None
    return report


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,10,20", help="comma-separated concurrent calls")
    parser.add_argument("--provider", default="twilio")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    for row in asyncio.run(main(levels, args.provider)):
        print(json.dumps(row), file=sys.stdout)
