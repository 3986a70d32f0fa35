"""What the dev page shows, sent to it over the call's data channel as it happens.

Two sources: frames seen by an observer (who is speaking, the bot's words as they are said,
barge-ins, the end) and the call's live CallRecord, read a few times a second for what it
gains (final transcript lines, turn latencies, tool calls and results, processor events,
Realtime reconnects and rollovers, errors). The page therefore shows exactly what the call
record will say, as it is written.

Every message is a JSON object whose `type` starts with `dev-` (Pipecat's own data-channel
messages use `signalling`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    InterimTranscriptionFrame,
    InterruptionFrame,
    TTSTextFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed

from bot.call.call import Call
from bot.call.record import CallRecord

# How often the live record is read for new entries.
RECORD_POLL_S = 0.25

Send = Callable[[dict[str, Any]], None]


def record_url(call_id: str) -> str:
    return f"/api/calls/{call_id}"


class RecordFeed:
    """Sends what a CallRecord gained since the last look."""

    def __init__(self, send: Send):
        self._send = send
        self._seen: dict[str, int] = {}
        self._results_sent: set[int] = set()
        self._greeting_sent = False

    def _new(self, name: str, items: list) -> list:
        start = self._seen.get(name, 0)
        self._seen[name] = len(items)
        return items[start:]

    def update(self, record: CallRecord) -> None:
        send = self._send
        if record.greeting_latency_s is not None and not self._greeting_sent:
            self._greeting_sent = True
            send({"type": "dev-turn", "turn": 0, "latency_s": record.greeting_latency_s})
        for entry in self._new("transcript", record.transcript):
            send({"type": "dev-transcript", "role": entry.role, "text": entry.text, "final": True})
        for turn in self._new("turns", record.turns):
            send({"type": "dev-turn", "turn": turn.turn, "latency_s": turn.latency_s})
        for call in self._new("tool_calls", record.tool_calls):
            send({"type": "dev-event", "kind": "tool-call", "text": _tool_text(call)})
        for index, call in enumerate(record.tool_calls):
            # A result lands on an entry already sent: report it once, when it does.
            if call.result is not None and index not in self._results_sent:
                self._results_sent.add(index)
                send({"type": "dev-event", "kind": "tool-result", "text": _result_text(call)})
        for event in self._new("events", record.events):
            text = f"{event.source}: {event.event}"
            send({"type": "dev-event", "kind": "processor", "text": text})
        realtime = record.realtime
        for reconnect in self._new("reconnects", realtime.reconnects):
            text = f"Realtime reconnected in {reconnect.seconds:.2f}s ({reconnect.cause})"
            send({"type": "dev-event", "kind": "reconnect", "text": text})
        for rollover in self._new("rollovers", realtime.rollovers):
            text = f"Realtime session rolled over (gap {rollover.gap_s:.2f}s)"
            send({"type": "dev-event", "kind": "rollover", "text": text})
        for error in self._new("errors", record.errors):
            send({"type": "dev-event", "kind": "error", "text": error})


def _tool_text(call) -> str:
    arguments = ", ".join(f"{k}={v!r}" for k, v in call.arguments.items())
    return f"{call.name}({arguments})"[:300]


def _result_text(call) -> str:
    return f"{call.name} → {call.result}"[:300]


class DevCallReporter(BaseObserver):
    """Follows one call and tells the page about it through `send` (the data channel)."""

    def __init__(self, send: Send, *, realtime: str):
        super().__init__(observe_every_push=False)
        self._send = send
        self._realtime = realtime
        self._feed = RecordFeed(send)
        self._call: Call | None = None
        self._poller: asyncio.Task | None = None
        self._bot_speaking = False
        self._caller_speaking = False
        self._barged_in = False
        self._ended = False

    def follow(self, call: Call) -> None:
        """Called once the Call exists and before it runs (LineCall.on_call)."""
        self._call = call
        call.add_observer(self)
        spec = call.spec
        self._send(
            {
                "type": "dev-call",
                "call_id": spec.call_id,
                "profile": spec.profile.name,
                "transport": spec.transport_name,
                "realtime": self._realtime,
                "record_url": record_url(spec.call_id),
            }
        )
        self._poller = asyncio.create_task(self._poll(), name=f"dev-page-{spec.call_id}")

    async def _poll(self) -> None:
        while self._call is not None:
            self._feed.update(self._call.recorder.record)
            await asyncio.sleep(RECORD_POLL_S)

    def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            self._poller = None

    async def on_push_frame(self, data: FramePushed):
        frame = data.frame
        if isinstance(frame, BotStartedSpeakingFrame) and not self._bot_speaking:
            self._bot_speaking = True
            self._barged_in = False
            self._send({"type": "dev-speaking", "who": "bot", "speaking": True})
        elif isinstance(frame, BotStoppedSpeakingFrame) and self._bot_speaking:
            self._bot_speaking = False
            self._send({"type": "dev-speaking", "who": "bot", "speaking": False})
        elif isinstance(frame, UserStartedSpeakingFrame) and not self._caller_speaking:
            self._caller_speaking = True
            self._send({"type": "dev-speaking", "who": "caller", "speaking": True})
        elif isinstance(frame, UserStoppedSpeakingFrame) and self._caller_speaking:
            self._caller_speaking = False
            self._send({"type": "dev-speaking", "who": "caller", "speaking": False})
        elif isinstance(frame, InterruptionFrame) and self._bot_speaking and not self._barged_in:
            self._barged_in = True  # one barge-in, however many processors pass it on
            # The Realtime service truncates the cut reply at what had played and the
            # output transport drops the rest: the bot stops.
            text = "caller talked over the bot: reply cut off and truncated at what was heard"
            self._send({"type": "dev-event", "kind": "barge-in", "text": text})
        elif isinstance(frame, (TTSTextFrame, InterimTranscriptionFrame)) and frame.text:
            role = "bot" if isinstance(frame, TTSTextFrame) else "caller"
            self._send({"type": "dev-transcript", "role": role, "text": frame.text, "final": False})
        elif isinstance(frame, (EndFrame, CancelFrame)) and not self._ended:
            self._ended = True
            self._report_end()

    def _report_end(self) -> None:
        """Said while the farewell may still be playing: the transport closes the peer
        connection once the pipeline has stopped, and nothing reaches the page after that."""
        call = self._call
        if call is None:
            return
        self._feed.update(call.recorder.record)
        self._send(
            {
                "type": "dev-end",
                "reason": call.end_reason or "pipeline finished",
                "record_url": record_url(call.spec.call_id),
            }
        )
        with contextlib.suppress(Exception):
            self.stop()
