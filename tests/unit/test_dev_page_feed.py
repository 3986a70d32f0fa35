"""What the dev page is told as a call's record fills up: each new entry once, in order."""

from bot.call.record import CallEvent, CallRecord, ToolCallEntry, TranscriptEntry, TurnLatency
from bot.webrtc.reporter import RecordFeed
from pipelines.realtime.stats import ReconnectEntry, RolloverEntry

AT = "2026-01-01T00:00:00.000+00:00"


def test_feed_sends_each_new_record_entry_once():
    sent: list[dict] = []
    feed = RecordFeed(sent.append)
    record = CallRecord(
        call_id="webrtc-1", transport="webrtc", profile="p", model="m", started_at=AT
    )

    record.greeting_latency_s = 0.4
    record.transcript.append(TranscriptEntry(role="bot", text="Hello", at=AT))
    feed.update(record)
    feed.update(record)  # nothing new: nothing sent
    assert sent == [
        {"type": "dev-turn", "turn": 0, "latency_s": 0.4},
        {"type": "dev-transcript", "role": "bot", "text": "Hello", "final": True},
    ]

    sent.clear()
    record.transcript.append(TranscriptEntry(role="caller", text="Bye", at=AT))
    record.turns.append(TurnLatency(turn=1, latency_s=0.6))
    record.tool_calls.append(ToolCallEntry(name="hangup_call", arguments={"reason": "done"}, at=AT))
    record.events.append(CallEvent(source="no_input_watchdog", event="re-prompt 1/1", at=AT))
    record.realtime.reconnects.append(
        ReconnectEntry(
            cause="socket closed",
            seconds=0.5,
            attempts=1,
            items_replayed=3,
            audio_replayed_s=0.0,
            reply_rerequested=False,
        )
    )
    record.realtime.rollovers.append(RolloverEntry(gap_s=0.1, items_replayed=4, session_age_s=60))
    feed.update(record)
    kinds = [(m["type"], m.get("kind") or m.get("role")) for m in sent]
    assert kinds == [
        ("dev-transcript", "caller"),
        ("dev-turn", None),
        ("dev-event", "tool-call"),
        ("dev-event", "processor"),
        ("dev-event", "reconnect"),
        ("dev-event", "rollover"),
    ]
    assert sent[2]["text"] == "hangup_call(reason='done')"

    # A tool's result lands later on the entry already sent: reported once.
    sent.clear()
    record.tool_calls[0].result = "The call ends after your current sentence."
    feed.update(record)
    feed.update(record)
    assert sent == [
        {
            "type": "dev-event",
            "kind": "tool-result",
            "text": "hangup_call → The call ends after your current sentence.",
        }
    ]
