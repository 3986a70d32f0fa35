"""Prometheus metrics for the telephony server (`GET /metrics`).

No label carries anything per call (no call id, no number): the series count stays fixed
however many calls pass. With several worker processes, set PROMETHEUS_MULTIPROC_DIR (the
runner does it for `--workers N`): each process writes its values there and a scrape of any
worker sums them all (prometheus-client's multiprocess mode).
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from bot.call.budget import END_REASON_BUDGET
from bot.call.fallback_prompt import END_REASON_RATE_LIMITED
from bot.call.record import CallRecord

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Caller-perceived turn latency lives between ~0.1 s (fine) and a few seconds (broken).
TURN_LATENCY_BUCKETS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0)

# The limits the Realtime API reports; a fixed set keeps the series count fixed.
RATE_LIMIT_NAMES = ("requests", "tokens")

# How a call ended, as a small fixed set: end reasons carry details (limits, error text).
END_REASON_CLASSES = (
    ("caller hung up", "caller_hung_up"),
    ("protocol error", "protocol_error"),
    ("realtime error", "realtime_error"),
    ("internal error", "internal_error"),
    ("max call duration", "limit"),
    ("idle timeout", "limit"),
    ("server", "server_shutdown"),
    ("pipeline finished", "bot_ended"),
    ("budget", "budget"),
    ("rate limited", "rate_limited"),
)


def end_reason_class(reason: str) -> str:
    reason = reason.lower()
    for prefix, label in END_REASON_CLASSES:
        if reason.startswith(prefix):
            return label
    return "other"


class BotMetrics:
    """The server's metrics, in their own registry (several servers can live in one test)."""

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get(MULTIPROC_ENV))
        self.registry = CollectorRegistry()
        r = self.registry
        self.active_calls = Gauge(
            "voicebot_active_calls",
            "Calls in progress",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.calls = Counter("voicebot_calls", "Calls started", registry=r)
        self.calls_ended = Counter(
            "voicebot_calls_ended", "Calls ended, by class of reason", ["reason"], registry=r
        )
        self.calls_refused = Counter(
            "voicebot_calls_refused", "Media streams refused at the door", ["reason"], registry=r
        )
        self.turn_latency = Histogram(
            "voicebot_turn_latency_seconds",
            "Caller stopped speaking → first bot audio",
            buckets=TURN_LATENCY_BUCKETS,
            registry=r,
        )
        self.reconnects = Counter(
            "voicebot_realtime_reconnects", "Realtime sessions re-opened mid-call", registry=r
        )
        self.echo_gate_openings = Counter(
            "voicebot_echo_gate_openings", "Echo gate opened for the caller", registry=r
        )
        self.tool_calls = Counter("voicebot_tool_calls", "Tool calls by the model", registry=r)
        self.errors = Counter("voicebot_call_errors", "Errors recorded in calls", registry=r)
        # Spend (docs/operations.md): counted from each finished call's record, so the cost
        # counter sums to exactly what the records say.
        self.cost = Counter(
            "voicebot_cost_usd", "Estimated Realtime cost of finished calls (USD)", registry=r
        )
        self.tokens = Counter(
            "voicebot_tokens",
            "Realtime tokens of finished calls; cached_in is a part of text_in + audio_in",
            ["kind"],
            registry=r,
        )
        self.budget_endings = Counter(
            "voicebot_budget_endings", "Calls ended on their cost cap", registry=r
        )
        self.rate_limited = Counter(
            "voicebot_realtime_rate_limited",
            "Calls the Realtime rate limit kept from a session at their start (the bot played "
            "the fallback line and hung up)",
            registry=r,
        )
        self.rate_limit_remaining = Gauge(
            "voicebot_realtime_rate_limit_remaining",
            "Latest rate_limits.updated 'remaining' by limit name, as of the last call to end",
            ["name"],
            registry=r,
            multiprocess_mode="mostrecent",
        )
        self.daily_budget_left = Gauge(
            "voicebot_daily_budget_left_usd",
            "What is left of DAILY_BUDGET_USD today (UTC); absent without a daily cap",
            registry=r,
            multiprocess_mode="mostrecent",
        )

    def call_started(self) -> None:
        self.calls.inc()
        self.active_calls.inc()

    def call_refused(self, reason: str) -> None:
        self.calls_refused.labels(reason=reason).inc()

    def turn(self, seconds: float) -> None:
        self.turn_latency.observe(seconds)

    def call_ended(self, record: CallRecord | None, echo_gate_openings: int = 0) -> None:
        self.active_calls.dec()
        if record is None:
            self.calls_ended.labels(reason="internal_error").inc()
            return
        self.calls_ended.labels(reason=end_reason_class(record.end_reason)).inc()
        self.reconnects.inc(len(record.realtime.reconnects))
        self.echo_gate_openings.inc(echo_gate_openings)
        self.tool_calls.inc(len(record.tool_calls))
        self.errors.inc(len(record.errors))
        self.cost.inc(record.cost_usd or 0.0)
        usage = record.usage
        for kind, tokens in (
            ("audio_in", usage.input_audio),
            ("audio_out", usage.output_audio),
            ("text_in", usage.input_text),
            ("text_out", usage.output_text),
            ("cached_in", usage.input_cached),
        ):
            self.tokens.labels(kind=kind).inc(tokens)
        for name, limit in record.realtime.rate_limits.items():
            if limit.remaining is not None and name in RATE_LIMIT_NAMES:
                self.rate_limit_remaining.labels(name=name).set(limit.remaining)
        if record.end_reason == END_REASON_BUDGET:
            self.budget_endings.inc()
        elif record.end_reason == END_REASON_RATE_LIMITED:
            self.rate_limited.inc()

    def exposition(self) -> tuple[bytes, str]:
        """The text a Prometheus scrape gets: this process's, or all workers' summed."""
        registry = self.registry
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
