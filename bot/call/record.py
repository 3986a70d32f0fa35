"""The record of one call: what was said, how fast, what it cost. One JSON line per call."""

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from bot.call.pricing import TokenUsage
from pipelines.realtime.stats import RealtimeHealth


class TranscriptEntry(BaseModel):
    role: Literal["caller", "bot"]
    text: str
    at: str  # ISO-8601, UTC


class ToolCallEntry(BaseModel):
    name: str
    arguments: dict = Field(default_factory=dict)
    result: str | None = None
    at: str


class CallEvent(BaseModel):
    """Something a profile processor did (re-prompted, keys pressed, ...)."""

    source: str
    event: str
    at: str


class TurnLatency(BaseModel):
    """Bot-side latency: the Realtime server saw the caller stop → the bot's audio started."""

    turn: int
    latency_s: float


class CallRecord(BaseModel):
    call_id: str
    transport: str
    profile: str
    model: str
    caller_number: str = ""
    caller_name: str = ""
    called_number: str = ""
    started_at: str
    ended_at: str | None = None
    duration_s: float | None = None
    end_reason: str = ""
    # How the call's audio went: `fast` skipped the processors that do not want it, `full`
    # walked the whole pipeline (pipelines/composer.py).
    audio_lane: Literal["fast", "full"] | None = None
    greeting_latency_s: float | None = None
    transcript: list[TranscriptEntry] = Field(default_factory=list)
    tool_calls: list[ToolCallEntry] = Field(default_factory=list)
    turns: list[TurnLatency] = Field(default_factory=list)
    events: list[CallEvent] = Field(default_factory=list)
    usage: TokenUsage = Field(default_factory=TokenUsage)
    cost_usd: float | None = None
    prices_as_of: str | None = None
    prices_source: str | None = None
    errors: list[str] = Field(default_factory=list)
    realtime: RealtimeHealth = Field(default_factory=RealtimeHealth)


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def append_record(
    record: CallRecord, records_dir: Path, redact: Callable[[dict], dict] | None = None
) -> Path:
    """Append the record as one line to records_dir/calls-YYYY-MM-DD.jsonl.

    One os.write on an O_APPEND descriptor, so concurrent calls (and worker processes)
    never interleave partial lines.
    """
    records_dir.mkdir(parents=True, exist_ok=True)
    path = records_dir / f"calls-{record.started_at[:10]}.jsonl"
    data = record.model_dump(mode="json")
    if redact is not None:
        data = redact(data)
    line = (json.dumps(data, ensure_ascii=False) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return path
