"""What a simulated call measured. All times are seconds since the start message was sent."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Turn:
    """One caller utterance and the bot's answer to it.

    Bot audio is attributed to this turn from ``end_of_utterance_s`` until the next
    utterance ends (audio arriving while the caller speaks still belongs to the previous
    answer, e.g. a bot talking over a barge-in).
    """

    utterance: str
    start_s: float
    end_of_utterance_s: float | None = None
    first_bot_audio_s: float | None = None
    latency_s: float | None = None
    bot_audio_s: float = 0.0


@dataclass
class CallResult:
    provider: str
    call_sid: str = ""
    stream_sid: str = ""
    connected: bool = False
    greeting_delay_s: float | None = None
    greeting_audio_s: float = 0.0
    turns: list[Turn] = field(default_factory=list)
    bot_audio_total_s: float = 0.0
    clears: int = 0
    clear_times_s: list[float] = field(default_factory=list)
    marks_answered: int = 0
    mark_names: list[str] = field(default_factory=list)
    dtmf_sent: str = ""
    closed_by: str | None = None  # "caller" | "server"
    close_code: int | None = None
    duration_s: float = 0.0
    record_path: str | None = None
    errors: list[str] = field(default_factory=list)
    started_at_unix: float = 0.0  # wall clock of time 0, to line results up with other logs
    # Bot audio against real time: chunks that came after the playout had run dry mid-reply,
    # the breaks a caller hears (over 40 ms), and all such breaks added up (sim.phone.playout).
    late_chunks: int = 0
    gaps_heard: int = 0
    gap_total_s: float = 0.0
    max_gap_s: float = 0.0
    gaps: list[list[float]] = field(default_factory=list)  # [resumed at s, gap s] each
    # When the caller *heard* bot speech (played out, not arrived): [start_s, end_s] spans.
    bot_heard_s: list[list[float]] = field(default_factory=list)

    def note_heard(self, start_s: float, frame_s: float, gap_s: float = 0.1) -> None:
        spans = self.bot_heard_s
        if spans and start_s - spans[-1][1] <= gap_s:
            spans[-1][1] = start_s + frame_s
        else:
            spans.append([start_s, start_s + frame_s])

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key, value in list(data.items()):
            if isinstance(value, float):
                data[key] = round(value, 4)
        for turn in data["turns"]:
            for key, value in list(turn.items()):
                if isinstance(value, float):
                    turn[key] = round(value, 4)
        data["clear_times_s"] = [round(t, 4) for t in data["clear_times_s"]]
        data["bot_heard_s"] = [[round(a, 3), round(b, 3)] for a, b in data["bot_heard_s"]]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))
