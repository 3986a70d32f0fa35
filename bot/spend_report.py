"""`python runner.py spend [--since YYYY-MM-DD] [--by profile|day|transport] [--json]`: what
the calls cost, from the call records (records/calls-YYYY-MM-DD.jsonl) — the same estimates
the daily budget and `voicebot_cost_usd_total` count, so the three agree."""

import argparse
import json
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from bot.config.errors import ConfigError
from bot.config.settings import load_settings

Grouping = Literal["profile", "day", "transport"]
TOTAL = "total"


class SpendRow(BaseModel):
    """One group of calls; `cached_input_share` is cached over all input tokens."""

    group: str
    calls: int = 0
    minutes: float = 0.0
    cost_usd: float = 0.0
    input_tokens: int = 0
    cached_input_tokens: int = 0

    @property
    def cost_per_minute_usd(self) -> float:
        return self.cost_usd / self.minutes if self.minutes else 0.0

    @property
    def cached_input_share(self) -> float:
        return self.cached_input_tokens / self.input_tokens if self.input_tokens else 0.0

    def add(self, record: dict) -> None:
        usage = record.get("usage") or {}
        self.calls += 1
        self.minutes += (record.get("duration_s") or 0.0) / 60
        self.cost_usd += record.get("cost_usd") or 0.0
        self.input_tokens += usage.get("input_text", 0) + usage.get("input_audio", 0)
        self.cached_input_tokens += usage.get("input_cached", 0)

    def as_json(self) -> dict:
        return {
            "group": self.group,
            "calls": self.calls,
            "minutes": round(self.minutes, 3),
            "cost_usd": round(self.cost_usd, 6),
            "cost_per_minute_usd": round(self.cost_per_minute_usd, 6),
            "cached_input_share": round(self.cached_input_share, 4),
        }


def read_records(records_dir: Path, since: date | None = None) -> Iterable[dict]:
    """Every record from `since` (UTC day the call started) on; torn lines are skipped."""
    for path in sorted(records_dir.glob("calls-*.jsonl")):
        day = path.stem.removeprefix("calls-")
        if since is not None and day < since.isoformat():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record


def group_of(record: dict, by: Grouping) -> str:
    if by == "day":
        return str(record.get("started_at", ""))[:10]
    return str(record.get(by) or "?")


def summarize(records: Iterable[dict], by: Grouping) -> list[SpendRow]:
    """One row per group, sorted by group, then the total."""
    rows: dict[str, SpendRow] = {}
    total = SpendRow(group=TOTAL)
    for record in records:
        key = group_of(record, by)
        rows.setdefault(key, SpendRow(group=key)).add(record)
        total.add(record)
    return [*(rows[key] for key in sorted(rows)), total]


def render_table(rows: list[SpendRow], by: Grouping) -> str:
    header = f"{by:<20} {'calls':>6} {'minutes':>9} {'cost $':>10} {'$/min':>8} {'cached in':>9}"
    lines = [header, "-" * len(header)]
    for row in rows:
        if row.group == TOTAL:
            lines.append("-" * len(header))
        lines.append(
            f"{row.group[:20]:<20} {row.calls:>6} {row.minutes:>9.2f} {row.cost_usd:>10.4f} "
            f"{row.cost_per_minute_usd:>8.4f} {row.cached_input_share:>9.1%}"
        )
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runner.py spend", description="What the calls cost, from the call records."
    )
    parser.add_argument("--since", type=date.fromisoformat, help="first UTC day (YYYY-MM-DD)")
    parser.add_argument("--by", choices=("profile", "day", "transport"), default="day")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--records-dir", type=Path, help="default: RECORDS_DIR")
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        records_dir = args.records_dir or load_settings().records_dir
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    rows = summarize(read_records(records_dir, args.since), args.by)
    if args.json:
        print(json.dumps({"by": args.by, "rows": [row.as_json() for row in rows]}, indent=2))
    else:
        print(render_table(rows, args.by))
    return 0
