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


def count_timeout(health: RealtimeHealth, which: str, tag: str) -> None:
    """Count one expiry of a ``TimeoutCounts`` step and log it."""
    setattr(health.timeouts, which, getattr(health.timeouts, which) + 1)
    logger.warning(f"{tag}Realtime timeout: {which.replace('_', ' ')}")
