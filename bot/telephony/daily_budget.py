"""The server's daily budget (DAILY_BUDGET_USD): the UTC day's estimated spend across every
call and every worker, and whether a new call may still start.

The call records are the shared state: every worker appends each finished call to
`records/calls-YYYY-MM-DD.jsonl` (one atomic write per line, bot/call/record.py), so each
worker reads that file — incrementally, from where it stopped — and adds its own live
calls' running estimates. Nothing to lock, nothing lost on a restart: a new process reads
the day's file from the start. A call counts on the day it started (its record's file).
Another worker's *live* calls are seen only once they end, so the day can overshoot by
what the calls live at the moment of the cap cost; each call's own cap bounds that.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from loguru import logger
from pydantic import BaseModel

# What a caller hears when the day's budget is spent (webhook answers, bot/telephony/server.py).
DAILY_BUDGET_REFUSAL_LINE = (
    "Sorry, we can't take your call right now. Please try again later. Goodbye."
)
WARN_AT_SHARE = 0.8


class DailyBudgetStatus(BaseModel):
    """What /health says about the day's budget."""

    day: str
    limit_usd: float
    spent_usd: float
    left_usd: float | None  # None: no daily cap
    exhausted: bool


def utc_day() -> str:
    return datetime.now(UTC).date().isoformat()


class DailySpend:
    """The day's spend from the records dir plus `live_cost_usd()` (this process's live
    calls); `limit_usd` 0 means no daily cap (the spend is still tracked for /health)."""

    def __init__(
        self,
        records_dir: Path,
        limit_usd: float,
        live_cost_usd: Callable[[], float] = lambda: 0.0,
        today: Callable[[], str] = utc_day,
    ) -> None:
        self.records_dir = records_dir
        self.limit_usd = limit_usd
        self._live_cost_usd = live_cost_usd
        self._today = today
        self._day = ""
        self._read_to = 0  # bytes of the day's file already summed
        self._recorded_usd = 0.0
        self._warned_day = ""

    def _read_new_records(self) -> None:
        day = self._today()
        if day != self._day:
            self._day, self._read_to, self._recorded_usd = day, 0, 0.0
        path = self.records_dir / f"calls-{day}.jsonl"
        try:
            with open(path, "rb") as f:
                f.seek(self._read_to)
                chunk = f.read()
        except FileNotFoundError:
            return
        # Only whole lines: a record being appended right now is summed on the next read.
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._read_to += len(complete)
        for line in complete.splitlines():
            self._recorded_usd += record_cost_usd(line)

    def status(self) -> DailyBudgetStatus:
        """Reads what other workers recorded since the last call; logs the 80 % warning once
        a day."""
        self._read_new_records()
        spent = round(self._recorded_usd + self._live_cost_usd(), 6)
        limit = self.limit_usd
        exhausted = limit > 0 and spent >= limit
        if limit > 0 and spent >= WARN_AT_SHARE * limit and self._warned_day != self._day:
            self._warned_day = self._day
            logger.warning(
                f"daily budget: ${spent:.2f} of ${limit:g} spent today (UTC) — "
                f"new calls are turned away at 100 % (DAILY_BUDGET_USD)"
            )
        return DailyBudgetStatus(
            day=self._day,
            limit_usd=limit,
            spent_usd=spent,
            left_usd=round(max(limit - spent, 0.0), 6) if limit > 0 else None,
            exhausted=exhausted,
        )

    def refusal(self) -> str | None:
        """Why a new call may not start (None while it may)."""
        if self.limit_usd <= 0:
            return None  # no cap: nothing to read on a call's way in
        status = self.status()
        if not status.exhausted:
            return None
        return (
            f"daily budget spent: ${status.spent_usd:.2f} of ${status.limit_usd:g} "
            f"(DAILY_BUDGET_USD, UTC day {status.day})"
        )


def record_cost_usd(line: bytes) -> float:
    """One record line's cost; a torn or foreign line counts as nothing."""
    try:
        cost = json.loads(line).get("cost_usd")
    except (ValueError, AttributeError):
        return 0.0
    return float(cost) if isinstance(cost, int | float) else 0.0
