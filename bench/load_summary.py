"""What bench.load makes of a level's calls: percentiles, gaps heard, the busiest 2 s, whether
a level holds the issue's bar, capacity, and the same-run ratios between bots."""

UTTERANCES = ["sim/audio/caller_order_status.wav", "sim/audio/caller_thanks.wav"]


def turns_per_call(shape: str) -> int:
    return 1 if shape == "dense" else len(UTTERANCES)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def gap_summary(results: list) -> dict:
    """The bot's audio against real time, over all calls (sim.phone.playout.GapMeter)."""
    return {
        "calls_with_heard_gaps": sum(1 for r in results if getattr(r, "gaps_heard", 0)),
        "gaps_heard_over_40ms": sum(getattr(r, "gaps_heard", 0) for r in results),
        "late_chunks": sum(getattr(r, "late_chunks", 0) for r in results),
        # Of the gaps heard, those in the greeting (before the caller's first turn): the
        # burst of calls starting together, not the turns.
        "gaps_heard_in_greeting": sum(
            1
            for r in results
            for at, gap in getattr(r, "gaps", [])
            if gap > 0.04 and (not r.turns or at < r.turns[0].start_s)
        ),
        "gap_total_s": round(sum(getattr(r, "gap_total_s", 0.0) for r in results), 3),
        "max_gap_s": round(max((getattr(r, "max_gap_s", 0.0) for r in results), default=0.0), 3),
    }


def busiest(samples: list[tuple[float, float]], span_s: float) -> int | None:
    """Highest CPU % over any `span_s` between (time, cumulative CPU-seconds) samples."""
    best = None
    for i, (t0, cpu0) in enumerate(samples):
        for t1, cpu1 in samples[i + 1 :]:
            if t1 - t0 >= span_s:
                pct = 100 * (cpu1 - cpu0) / (t1 - t0)
                best = pct if best is None else max(best, pct)
                break
    return None if best is None else round(best)


def holds_level(row: dict, one_call_p50: float | None) -> bool:
    """The issue's bar for a level: every call completes, every turn is answered, and p95 turn
    latency stays within 100 ms of one call's p50."""
    p95 = row.get("turn_latency_p95_s")
    return (
        row["failed_calls"] == 0
        and row["unanswered_turns"] == 0
        and one_call_p50 is not None
        and p95 is not None
        and p95 <= one_call_p50 + 0.1
    )


def capacity(rows: list[dict]) -> dict[str, int]:
    """Per bot: the most concurrent calls it held the bar at, every lower level holding too."""
    result: dict[str, int] = {}
    for bot in dict.fromkeys(r["bot"] for r in rows if "calls" in r):
        levels = [r for r in rows if r["bot"] == bot and "calls" in r]
        one = next((r["turn_latency_p50_s"] for r in levels if r["calls"] == 1), None)
        result[bot] = 0
        for row in sorted(levels, key=lambda r: r["calls"]):
            if not holds_level(row, one):
                break
            result[bot] = row["calls"]
    return result


def broke(row: dict) -> bool:
    """Past this point further levels only take time (the bot no longer keeps up)."""
    turns = row["calls"] * turns_per_call(row.get("shape", "spread"))
    answered = row["unanswered_turns"] / max(1, turns)
    p95 = row.get("turn_latency_p95_s") or 0
    return row["failed_calls"] > row["calls"] // 2 or answered > 0.25 or p95 > 3.0


OURS_FAST = ("ours", "ours-fast")


def add_ratios(rows: list[dict]) -> None:
    """Ours and asterisk vs the baseline; asterisk vs ours (Twilio) and ours-fast vs ours-full,
    level by level."""
    pairs = (("baseline", "baseline"), (OURS_FAST, "twilio"), ("ours-full", "full"))
    for reference, suffix in pairs:
        refs = reference if isinstance(reference, tuple) else (reference,)
        base_rows = {r["calls"]: r for r in rows if r["bot"] in refs and "calls" in r}
        for row in rows:
            base = base_rows.get(row.get("calls"))
            if base is None or row["bot"] in (*refs, "baseline"):
                continue
            if suffix == "twilio" and row["bot"] != "asterisk":
                continue
            if suffix == "full" and row["bot"] not in OURS_FAST:
                continue
            for key in ("turn_latency_p50_s", "turn_latency_p95_s", "cpu_s_per_call_minute"):
                if row.get(key) and base.get(key):
                    row[f"{key}_vs_{suffix}"] = round(row[key] / base[key], 2)
