"""What a simulated Asterisk call measured: sim.phone's CallResult plus Asterisk's own counts.

The shared fields keep their meaning so tools that read sim.phone results read these too:
``clears``/``clear_times_s`` count FLUSH_MEDIA commands (Asterisk's "clear"),
``marks_answered``/``mark_names`` the MEDIA_MARK_PROCESSED events sent (the correlation
ids), ``call_sid`` is the channel uniqueid (``channel_id``) and ``stream_sid`` the
chan_websocket ``connection_id`` or the AudioSocket UUID.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sim.phone.result import CallResult


@dataclass
class AsteriskCallResult(CallResult):
    transport: str = "websocket"  # "websocket" (chan_websocket) | "audiosocket"
    codec: str = ""
    control_format: str | None = None  # chan_websocket: "plain-text" | "json"
    answered: bool = False  # auto-answer, or the bot's ANSWER with no_auto_answer
    hangup_received: bool = False  # the bot's HANGUP command / AudioSocket 0x00 message
    # chan_websocket queue (sim.asterisk.queue): XOFF/XON events sent, the longest queue,
    # BINARY messages ignored because 1000 frames were queued, partial frames discarded,
    # short frames played (buffering leftovers), frames and marks dropped by FLUSH_MEDIA.
    xoff: int = 0
    xon: int = 0
    queue_drained: int = 0
    max_queue_frames: int = 0
    messages_dropped_queue_full: int = 0
    bytes_dropped_queue_full: int = 0
    partial_frames_dropped: int = 0
    partial_bytes_dropped: int = 0
    short_frames_played: int = 0
    frames_flushed: int = 0
    marks_flushed: int = 0
    # Voiced bot audio the caller heard that the bot sent after a FLUSH_MEDIA while the
    # caller was still talking over it: the rest of the interrupted answer, which a bot that
    # really stopped never sends. 0 for a correct bot.
    heard_after_flush_s: float = 0.0
    status_replies: int = 0
    buffering_completed: int = 0
    errors_sent: list[str] = field(default_factory=list)  # error_text of ERROR events
    control_ignored: list[str] = field(default_factory=list)  # TEXT frames Asterisk drops
    binary_dropped_direction: int = 0  # BINARY messages dropped in media direction "in"
    # AudioSocket: how far ahead of real time the bot's audio arrived (Asterisk writes it
    # to the caller unpaced), in 20 ms frames; and the audio message kinds received.
    max_lead_frames: int | None = None
    audio_kinds: list[str] = field(default_factory=list)
    # Barge-ins: a Say step starting while bot audio was audible; the delay is how long
    # the caller kept hearing the bot after starting to talk.
    barge_in_times_s: list[float] = field(default_factory=list)
    barge_in_stop_delays_s: list[float] = field(default_factory=list)
    # FastAGI requests run around the call (sim.asterisk.agi.AgiResult.to_dict()) and the
    # variables they set, merged in order.
    agi: list[dict[str, Any]] = field(default_factory=list)
    agi_variables: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        data = super().to_dict()
        for key in ("barge_in_times_s", "barge_in_stop_delays_s"):
            data[key] = [round(t, 3) for t in data[key]]
        return data
