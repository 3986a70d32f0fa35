"""What the resilience layer did during one call; stored in the call record as ``realtime``."""

from datetime import UTC, datetime

from loguru import logger
from pydantic import BaseModel, Field


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class ReconnectEntry(BaseModel):
    at: str = Field(default_factory=_now)
    cause: str
    seconds: float  # socket lost → new session holds the conversation again
    attempts: int
    items_replayed: int
    audio_replayed_s: float
    reply_rerequested: bool


class RolloverEntry(BaseModel):
    at: str = Field(default_factory=_now)
    gap_s: float  # old socket stopped taking audio → new one holds the conversation
    items_replayed: int
    session_age_s: float  # how long the replaced session had lived


class TimeoutCounts(BaseModel):
    connect: int = 0
    session_updated: int = 0
    first_audio: int = 0
    tool: int = 0


class RateLimit(BaseModel):
    """The latest `rate_limits.updated` entry of one kind (requests, tokens)."""

    limit: float | None = None
    remaining: float | None = None
    reset_seconds: float | None = None


class RealtimeHealth(BaseModel):
    sessions: int = 0
    reconnects: list[ReconnectEntry] = Field(default_factory=list)
    rollovers: list[RolloverEntry] = Field(default_factory=list)
    timeouts: TimeoutCounts = Field(default_factory=TimeoutCounts)
    responses_retried: int = 0
    fallback_lines: int = 0
    transient_errors: int = 0
    rejected_events: int = 0
    fatal_error: str | None = None
    rate_limits: dict[str, RateLimit] = Field(default_factory=dict)  # by name, latest


def track_rate_limits(health: RealtimeHealth, entries: list[dict]) -> None:
    """Keep the latest of each named limit the server reported (`rate_limits.updated`)."""
    for entry in entries:
        name = entry.get("name")
        if isinstance(name, str) and name:
            health.rate_limits[name[:40]] = RateLimit.model_validate(
                {k: entry.get(k) for k in ("limit", "remaining", "reset_seconds")}
            )


def count_timeout(health: RealtimeHealth, which: str, tag: str) -> None:
    """Count one expiry of a ``TimeoutCounts`` step and log it."""
    setattr(health.timeouts, which, getattr(health.timeouts, which) + 1)
    logger.warning(f"{tag}Realtime timeout: {which.replace('_', ' ')}")
