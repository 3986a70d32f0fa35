"""Shared pieces of the Asterisk end-to-end tests: the caller's script, the runner's
command line, and the barge-in measures that line the caller's timeline (sim.asterisk) up
with the Realtime emulator's (both in the test process, so both on its wall clock)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.asterisk import AsteriskCallResult
from sim.bot_process import free_port
from sim.phone import Say, Silence
from sim.phone.audio import load_wav_8k, voiced_seconds

ORDER = "sim/audio/caller_order_status.wav"
THANKS = "sim/audio/caller_thanks.wav"
GOODBYE = "sim/audio/caller_goodbye.wav"
FAREWELL_CLIP = "bot_reply_3.wav"  # "Thank you for calling. Goodbye!"
FAREWELL_VOICED_S = voiced_seconds(load_wav_8k(f"sim/audio/{FAREWELL_CLIP}"))
CALLER_SAID = ["Hi, I would like to check the status of my order.", "Great, thank you very much."]


def two_turns() -> list:
    """The second utterance starts 3 s into the 5.6 s answer to the first: a barge-in."""
    return [Say(ORDER), Silence(3.0), Say(THANKS), Silence(3.0)]


@dataclass(frozen=True)
class AsteriskPorts:
    agi: int
    audiosocket: int

    @classmethod
    def free(cls) -> AsteriskPorts:
        return cls(free_port(), free_port())

    def args(self, transport: str) -> tuple[str, ...]:
        extra = ("--audiosocket-port", str(self.audiosocket)) if transport == "audiosocket" else ()
        return ("--transport", transport, "--agi-port", str(self.agi), *extra)


@dataclass
class BargeIn:
    """One barge-in over a bot answer, on the caller's clock (seconds since the call began)."""

    caller_started_s: float  # the caller began talking over the bot
    detected_s: float  # the Realtime server's speech_started reached the bot
    last_heard_s: float  # the caller heard the bot for the last time
    answer_heard_from_s: float  # the interrupted answer began to play

    @property
    def stop_after_detection_s(self) -> float:
        return max(0.0, self.last_heard_s - self.detected_s)

    @property
    def played_at_detection_ms(self) -> int:
        """What the caller had heard of the answer when the bot learned of the barge-in:
        where the item should be truncated."""
        return round(1000 * (self.detected_s - self.answer_heard_from_s))


def barge_ins(result: AsteriskCallResult, session) -> list[BargeIn]:
    """Each caller utterance that started while bot audio was playing, with the emulator's
    speech_started for it."""
    found = []
    started = [
        at - result.started_at_unix
        for event, at in zip(session.server_events, session.server_event_times, strict=True)
        if event["type"] == "input_audio_buffer.speech_started"
    ]
    for start in result.barge_in_times_s:
        span = next(s for s in result.bot_heard_s if s[0] <= start <= s[1] + 0.1)
        detected = next(t for t in started if t >= start)
        # The answer began with the first audio heard after the caller's previous utterance
        # (the answer has pauses, so the span around the barge-in may be a later phrase).
        previous = max(t.end_of_utterance_s or 0.0 for t in result.turns if t.start_s < start)
        answer_from = next(s[0] for s in result.bot_heard_s if s[1] > previous)
        found.append(BargeIn(start, detected, span[1], answer_from))
    return found


def record_of(records: list[dict], call_id: str) -> dict:
    return next(r for r in records if r["call_id"] == call_id)


def write_asterisk_profile(tmp_path: Path, tools: list[str], **tool_settings) -> str:
    from tests.helpers.tools import write_profile

    return write_profile(tmp_path, tools, **tool_settings)
