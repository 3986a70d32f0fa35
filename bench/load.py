"""Concurrent-call load benchmark: a bot + the Realtime emulator + N simulated callers.

The bot under test runs pinned to core 0 (taskset); this process (callers and emulator) is
pinned to core 1, so the bot's core is its own. Each level places N calls at once and reports
caller-side turn latency (end of utterance → first bot audio) p50/p95/p99, unanswered turns,
failed calls, gaps in the bot's audio as the callers heard them, the bot's CPU-seconds per
call-minute and its RSS growth per call. The same levels run against a plain-Pipecat baseline
bot (bench/baseline_bot.py) in the same run; ratios are ours / baseline. Bots:

- `ours-fast` (or `ours`): our bot with its default lane choice (the audio fast lane for the
  bench's profile, which has no audio-hungry processor); `ours-full`: `AUDIO_LANE=full`, every
  audio frame through the whole pipeline. Their rows carry `*_vs_baseline` ratios, and
  `ours-fast` rows `*_vs_full` ratios to `ours-full` at the same level.
- `asterisk`: our bot on `--transport asterisk`, called by sim.asterisk over chan_websocket
  (μ-law, plain-text control); its rows carry the ratio to `ours` (Twilio) at the same level.
- `baseline`: plain Pipecat.

Load shapes (`--shape`): `spread` (default) is two turns per call with each caller pausing a
random 0..BENCH_TURN_SPREAD_S before each; `dense` starts every call within 3 s, and after the
greeting each caller waits 1 s, says one sentence and listens 4 s, so every call's turn lands
on the bot together. Machines here are shared and noisy: only same-run comparisons mean
anything.

    python -m bench.load [--levels 1,10,40,100] [--bots ours-fast,ours-full,baseline]
                         [--shape spread|dense] [--workers N] [--out rows.json]
    python -m bench.load --soak 1000      # RSS after 1,000 calls, one at a time, vs idle
    python -m bench.report rows.json      # the markdown tables (and a PNG with matplotlib)

Knobs (environment): BENCH_STAGGER_S (0.02: calls' media clocks out of phase by up to this),
BENCH_TURN_SPREAD_S (3.0: callers pause up to this before each utterance; 0 puts every
caller's turn in the same 20 ms).
"""

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from bench.load_summary import (
    UTTERANCES,
    add_ratios,
    broke,
    busiest,
    capacity,
    gap_summary,
    percentile,
    turns_per_call,
)
from bench.proc_stats import usage
from bench.py_spy import py_spy
from bot.event_loop import run_event_loop
from sim.asterisk import AsteriskWebSocketCall
from sim.bot_process import REPO, bot_env, free_port
from sim.phone import PhoneCaller, Say, Silence
from sim.realtime import EmulatorConfig, RealtimeEmulator

# No hang-up, no re-prompt: the calls last exactly as long as their script.
PLAIN_PROFILE = Path(__file__).parent / "plain_profile.yaml"
BOT_CORE, BENCH_CORE = 0, 1


class Bot:
    def __init__(self, name: str, proc: subprocess.Popen, port: int, profile: str = "default"):
        self.name, self.proc, self.port, self.profile = name, proc, port, profile
        self.ws_url = f"ws://127.0.0.1:{port}/{'asterisk' if name == 'asterisk' else 'ws'}"
        self.http_url = f"http://127.0.0.1:{port}"


@asynccontextmanager
async def start_bot(
    name: str,
    realtime_url: str,
    tmp: Path,
    workers: int = 1,
    pin: bool = True,
    profile: str | None = None,
) -> AsyncIterator[Bot]:
    port = free_port()
    lane = "full" if name == "ours-full" else "auto"
    if name == "baseline":
        cmd = [sys.executable, "-m", "bench.baseline_bot", "--realtime-url", realtime_url]
        cmd += ["--port", str(port)]
    else:
        transport = "asterisk" if name == "asterisk" else "twilio"
        cmd = [sys.executable, "runner.py", "--transport", transport, "--port", str(port)]
        cmd += ["--host", "127.0.0.1", "--realtime-url", realtime_url]
        cmd += ["--profile", profile or str(PLAIN_PROFILE)]
        if name == "asterisk":
            cmd += ["--agi-port", str(free_port())]  # one process: FastAGI answers from it
        else:
            cmd += ["--workers", str(workers)]
    if pin:
        cmd = ["taskset", "-c", str(BOT_CORE), *cmd]
    # Both caps raised: the ladder measures the bot, not the limits (MAX_REALTIME_SESSIONS
    # defaults to the account's 100, and the emulator has no such limit).
    env = bot_env(
        tmp,
        LOG_LEVEL="WARNING",
        MAX_CONCURRENT_CALLS="1000",
        MAX_REALTIME_SESSIONS="1000",
        IDLE_TIMEOUT_S="60",
        AUDIO_LANE=lane,
    )
    log = open(tmp / f"{name}-{port}.log", "wb")  # noqa: ASYNC230 - once per bot
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)  # noqa: ASYNC220
    bot = Bot(name, proc, port, "baseline" if name == "baseline" else profile or "plain")
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                if proc.poll() is not None:
                    raise RuntimeError(f"{name} bot exited {proc.returncode}")
                try:
                    if (await client.get(f"{bot.http_url}/health", timeout=0.5)).is_success:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
        yield bot
    finally:
        proc.terminate()
        try:
            await asyncio.wait_for(asyncio.to_thread(proc.wait), 30)
        except TimeoutError:
            proc.kill()
        log.close()


# Calls on a real server start at random moments, so their 20 ms media clocks are out of
# phase; N callers started in the same instant would all send in the same millisecond.
STAGGER_S = float(os.environ.get("BENCH_STAGGER_S", "0.02"))


# People on live calls do not finish their sentences in the same 20 ms: before each
# utterance a caller pauses a random 0..TURN_SPREAD_S, so the N calls' turns (and the model's
# replies, streamed faster than real time) spread over that span instead of all landing on
# the bot at once. Every caller then waits out the rest of the spread, so all N calls stay
# live until the last turn has been answered. 0 gives the worst case: every turn at once.
TURN_SPREAD_S = float(os.environ.get("BENCH_TURN_SPREAD_S", "3.0"))


# The dense burst (--shape dense): every call starts within this many seconds...
DENSE_START_SPREAD_S = 3.0
# ...and after the greeting: this much silence, one sentence, this long listening.
DENSE_STEPS = (Silence(1.0), Say(UTTERANCES[0]), Silence(4.0))


async def staggered(
    phone: PhoneCaller | AsteriskWebSocketCall, rng: random.Random, shape: str = "spread"
):
    spread = DENSE_START_SPREAD_S if shape == "dense" else STAGGER_S
    await asyncio.sleep(spread * rng.random())
    return await phone.run()


def caller(
    bot: Bot, rng: random.Random, shape: str = "spread"
) -> PhoneCaller | AsteriskWebSocketCall:
    steps: list[Say | Silence] = []
    if shape == "dense":
        steps += DENSE_STEPS
    else:
        pauses = [TURN_SPREAD_S * rng.random() for _ in UTTERANCES]
        for clip, pause in zip(UTTERANCES, pauses, strict=True):
            steps += [Silence(pause), Say(clip), Silence(3.0)]
        steps.append(Silence(len(UTTERANCES) * TURN_SPREAD_S - sum(pauses)))
    if bot.name == "asterisk":
        return AsteriskWebSocketCall(bot.ws_url, steps, codec_name="ulaw", control_format="text")
    return PhoneCaller(url=bot.ws_url, provider="twilio", steps=steps)


async def scrape(bot: Bot) -> dict[str, float]:
    if bot.name == "baseline":
        return {}
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{bot.http_url}/metrics", timeout=5)).text
    wanted = (
        "voicebot_calls_total",
        "voicebot_turn_latency_seconds_count",
        "voicebot_turn_latency_seconds_sum",
    )
    return {
        m.group(1): float(m.group(2))
        for m in re.finditer(r"^(\w+) ([0-9.e+]+)$", text, re.M)
        if m.group(1) in wanted
    }


async def run_level(
    bot: Bot, calls: int, shape: str = "spread", profile_dir: Path | None = None
) -> dict:
    profile = profile_dir / f"{bot.name}-{shape}-{calls}.raw" if profile_dir else None
    async with py_spy(bot.proc.pid, profile):
        row = await _run_level(bot, calls, shape)
    if profile is not None:
        row["py_spy_profile"] = str(profile)
    return row


async def _run_level(bot: Bot, calls: int, shape: str) -> dict:
    before, t0 = usage(bot.proc.pid), time.monotonic()
    harness_before = time.process_time()
    peak_rss = before.rss_mb
    metrics_before = await scrape(bot)
    done = asyncio.Event()

    cpu_samples: list[tuple[float, float]] = []

    async def sample() -> None:
        nonlocal peak_rss
        while not done.is_set():
            now = usage(bot.proc.pid)
            peak_rss = max(peak_rss, now.rss_mb)
            cpu_samples.append((time.monotonic(), now.cpu_s))
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    # One seeded draw sequence per caller: its turn pauses, then its start offset.
    rngs = [random.Random(i) for i in range(calls)]
    results = await asyncio.gather(
        *(staggered(caller(bot, rng, shape), rng, shape) for rng in rngs)
    )
    done.set()
    await sampler
    after = usage(bot.proc.pid)
    # Callers and emulator share one core: near 100 % they, not the bot, set the pace, and
    # the level's latency and CPU figures say nothing about the bot.
    harness_pct = 100 * (time.process_time() - harness_before) / (time.monotonic() - t0)
    await asyncio.sleep(1.0)  # let records land before the scrape
    metrics_after = await scrape(bot)
    delta = {k: metrics_after.get(k, 0) - v for k, v in metrics_before.items()}
    latencies = [t.latency_s for r in results for t in r.turns if t.latency_s is not None]
    call_minutes = sum(r.duration_s for r in results) / 60
    cpu_s = after.cpu_s - before.cpu_s
    return {
        "bot": bot.name,
        "shape": shape,
        "profile": bot.profile,
        "calls": calls,
        "failed_calls": sum(1 for r in results if not r.connected or r.errors),
        "unanswered_turns": sum(1 for r in results for t in r.turns if t.latency_s is None)
        + sum(max(0, turns_per_call(shape) - len(r.turns)) for r in results),
        **gap_summary(results),
        "turn_latency_p50_s": percentile(latencies, 0.5),
        "turn_latency_p95_s": percentile(latencies, 0.95),
        "turn_latency_p99_s": percentile(latencies, 0.99),
        "cpu_s_per_call_minute": round(cpu_s / call_minutes, 3) if call_minutes else None,
        # CPU-seconds per call-second: the share of one core each live call costs.
        "cpu_pct_core_per_call": round(100 * cpu_s / (call_minutes * 60), 2)
        if call_minutes
        else None,
        "rss_idle_mb": round(before.rss_mb, 1),
        "rss_per_call_mb": round((peak_rss - before.rss_mb) / calls, 2),
        "wall_s": round(time.monotonic() - t0, 1),
        "harness_cpu_pct": round(harness_pct),
        "bot_cpu_pct": round(100 * cpu_s / (time.monotonic() - t0)),
        # The level's average includes calls connecting and hanging up; while every call is
        # live the core is busier: the busiest 2 s shows how close it came to saturating.
        "bot_cpu_peak_2s_pct": busiest(cpu_samples, 2.0),
        "metrics_delta": delta,
        # The bot's own view (caller stopped → first bot audio, from /metrics): what the
        # bot adds, without the harness's own scheduling delays.
        "bot_side_turn_latency_mean_s": round(
            delta["voicebot_turn_latency_seconds_sum"]
            / delta["voicebot_turn_latency_seconds_count"],
            3,
        )
        if delta.get("voicebot_turn_latency_seconds_count")
        else None,
    }


def soak_caller(bot: Bot) -> PhoneCaller:
    """A short call: the caller speaks over the greeting (a barge-in), hears the reply and
    hangs up: about 4 s, so 1,000 one-at-a-time calls fit in about an hour."""
    steps = [Say(UTTERANCES[1]), Silence(1.5)]
    return PhoneCaller(url=bot.ws_url, provider="twilio", steps=steps, wait_for_greeting_s=None)


async def soak(bot: Bot, total: int, wave: int) -> dict:
    """Many short calls, `wave` at a time; RSS at idle (after one warm-up call) vs after."""
    await soak_caller(bot).run()
    await asyncio.sleep(2)
    idle = usage(bot.proc.pid).rss_mb
    failed, done = 0, 0
    all_results: list = []
    # RSS settled after every fifth of the calls: a leak grows with calls, fragmentation
    # from the first peak of concurrent calls does not.
    series: list[float] = []
    checkpoint = max(wave, total // 5)
    for start in range(0, total, wave):
        n = min(wave, total - start)
        results = await asyncio.gather(*(soak_caller(bot).run() for _ in range(n)))
        failed += sum(1 for r in results if not r.connected or r.errors)
        all_results += results
        done += n
        if done % checkpoint < n and done < total:
            await asyncio.sleep(3)
            series.append(round(usage(bot.proc.pid).rss_mb, 1))
    await asyncio.sleep(5)
    final = usage(bot.proc.pid).rss_mb
    series.append(round(final, 1))
    return {
        "rss_series_mb": series,
        "rss_growth_after_first_fifth_pct": round(100 * (final - series[0]) / series[0], 1),
        "bot": bot.name,
        "soak_calls": total,
        "failed_calls": failed,
        # A long run must not turn choppy either: the same gap figures as a load level.
        **gap_summary(all_results),
        "rss_idle_mb": round(idle, 1),
        "rss_after_mb": round(final, 1),
        "rss_growth_pct": round(100 * (final - idle) / idle, 1),
    }


async def main(
    levels: list[int],
    bots: list[str],
    workers: int = 1,
    soak_calls: int = 0,
    wave: int = 1,
    shape: str = "spread",
    profile_dir: Path | None = None,
    profile: str | None = None,
) -> list[dict]:
    pin = workers == 1
    if profile_dir is not None:
        profile_dir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before any call
    if pin and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {BENCH_CORE})
    rows: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        # Event conformance is checked in every test run; here it would only slow the harness.
        async with RealtimeEmulator(EmulatorConfig(strict_events=False)) as emulator:
            for name in bots:
                async with start_bot(name, emulator.url, Path(tmp), workers, pin, profile) as bot:
                    if soak_calls:
                        rows.append(await soak(bot, soak_calls, wave))
                        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
                        continue
                    for n in levels:
                        row = await run_level(bot, n, shape, profile_dir)
                        rows.append(row)
                        print(json.dumps(row), file=sys.stderr, flush=True)
                        if broke(row):
                            break
    add_ratios(rows)
    if not soak_calls and 1 in levels:
        rows.append({"bot": "summary", "capacity_calls": capacity(rows)})
    return rows


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default="1,10,20,40,60,80,100,120")
    parser.add_argument(
        "--bots",
        default="ours-fast,ours-full,baseline",
        help="comma-separated: ours-fast (= ours), ours-full, asterisk, baseline",
    )
    parser.add_argument("--shape", choices=("spread", "dense"), default="spread")
    parser.add_argument("--out", help="also write the rows to this JSON file (bench.report)")
    parser.add_argument(
        "--profile",
        help="our bots' profile (name or YAML path; default: bench/plain_profile.yaml), e.g. "
        "bench/profiles/receptionist.yaml: tools, watchdog and keypad on the way",
    )
    parser.add_argument(
        "--py-spy", metavar="DIR", help="profile the bot at every level into DIR/BOT-SHAPE-N.raw"
    )
    parser.add_argument("--workers", type=int, default=1, help="ours only; >1 runs unpinned")
    parser.add_argument("--soak", type=int, default=0, help="calls for the RSS soak mode")
    parser.add_argument(
        "--wave", type=int, default=1, help="concurrent calls in the soak (1: one at a time)"
    )
    return parser.parse_args(argv)


if __name__ == "__main__":
    args = parse_args()
    # The harness on uvloop too, as the bot under test is: at 100+ calls its own core must
    # not be what limits the level.
    rows = run_event_loop(
        main(
            [int(n) for n in args.levels.split(",")],
            args.bots.split(","),
            args.workers,
            args.soak,
            args.wave,
            args.shape,
            Path(args.py_spy) if args.py_spy else None,
            args.profile,
        )
    )
    for row in rows:
        print(json.dumps(row))
    if args.out:
        Path(args.out).write_text(json.dumps(rows, indent=1))
