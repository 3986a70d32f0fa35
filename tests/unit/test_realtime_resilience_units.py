"""The pieces of the resilience layer on their own: error table, conversation log and
tracker, backlog."""

import json

import pytest
from pipecat.services.openai.realtime import events

from pipelines.realtime.audio_backlog import AudioBacklog
from pipelines.realtime.conversation_log import UNTRANSCRIBED, ConversationLog, ConversationTracker
from pipelines.realtime.errors import ErrorKind, classify_error, classify_http_status


@pytest.mark.parametrize(
    ("code", "etype", "kind", "says"),
    [
        ("invalid_api_key", "invalid_request_error", ErrorKind.FATAL, "wrong API key"),
        ("model_not_found", "invalid_request_error", ErrorKind.FATAL, "unknown model"),
        ("insufficient_quota", "insufficient_quota", ErrorKind.FATAL, "out of quota"),
        (None, "permission_error", ErrorKind.FATAL, "no Realtime access"),
        ("session_expired", "invalid_request_error", ErrorKind.TRANSIENT, "maximum duration"),
        (None, "server_error", ErrorKind.TRANSIENT, "server_error"),
        ("rate_limit_exceeded", "rate_limit_error", ErrorKind.TRANSIENT, "rate limited"),
        ("response_cancel_not_active", "invalid_request_error", ErrorKind.BENIGN, "cancel"),
        ("conversation_already_has_active_response", None, ErrorKind.BENIGN, "active"),
        ("unknown_parameter", "invalid_request_error", ErrorKind.REJECTED, "unknown_parameter"),
    ],
)
def test_error_events_are_classified(code, etype, kind, says):
    verdict = classify_error(code, etype, "message from the server")
    assert verdict.kind is kind and says in verdict.cause


def test_refused_upgrades_are_classified():
    assert classify_http_status(401).kind is ErrorKind.FATAL
    assert "no Realtime access" in classify_http_status(403).cause
    assert classify_http_status(503).kind is ErrorKind.TRANSIENT
    assert classify_http_status(429).kind is ErrorKind.TRANSIENT


def _user_audio(item_id: str) -> dict:
    return {
        "id": item_id,
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_audio"}],
    }


def test_log_restates_every_item_in_server_order_as_text():
    log = ConversationLog()
    log.upsert(
        {
            "id": "g",
            "type": "message",
            "role": "system",
            "content": [{"type": "input_text", "text": "Greet."}],
        }
    )
    log.upsert({"id": "a1", "type": "message", "role": "assistant", "content": []}, "g")
    log.add_reply_text("a1", "Hello ")
    log.add_reply_text("a1", "there.")
    log.upsert(
        {
            "id": "a1",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_audio", "transcript": "Hello there."}],
        },
        "g",
    )
    log.upsert(_user_audio("u1"), "a1")
    log.set_user_transcript("u1", "Where is my order?")
    log.upsert(_user_audio("u2"), "u1")  # transcription never arrived
    log.upsert(
        {"id": "f1", "type": "function_call", "call_id": "c1", "name": "lookup", "arguments": "{}"},
        "u2",
    )
    log.upsert(
        {
            "id": "o1",
            "type": "function_call_output",
            "call_id": "c1",
            "output": '{"status": "shipped"}',
        },
        "f1",
    )
    log.upsert({"id": "a2", "type": "message", "role": "assistant", "content": []}, "o1")
    log.add_reply_text("a2", "It has ")  # cut by a drop mid-sentence
    log.upsert(
        {
            "id": "late",
            "type": "message",
            "role": "system",
            "content": [{"type": "input_text", "text": "inserted"}],
        },
        "g",
    )
    items = log.replay_items()
    assert [i["id"] for i in items] == ["g", "late", "a1", "u1", "u2", "f1", "o1", "a2"]
    texts = {i["id"]: i.get("content", [{}])[0].get("text") for i in items}
    assert texts["a1"] == "Hello there." and texts["u1"] == "Where is my order?"
    assert texts["u2"] == UNTRANSCRIBED and texts["a2"] == "It has"
    assert items[2]["content"][0]["type"] == "output_text"
    assert items[3]["content"][0]["type"] == "input_text"
    assert items[5] == {
        "id": "f1",
        "type": "function_call",
        "call_id": "c1",
        "name": "lookup",
        "arguments": "{}",
    }
    assert all("status" not in i and "object" not in i for i in items)


def test_a_reply_cut_before_any_word_is_not_restated_and_deleted_items_go():
    log = ConversationLog()
    log.upsert({"id": "a", "type": "message", "role": "assistant", "content": []})
    log.upsert(_user_audio("u"))
    log.set_user_transcript("u", "Hi")
    log.remove("u")
    assert log.replay_items() == []


def _event(etype: str, **fields) -> events.ServerEvent:
    return events.parse_server_event(json.dumps({"event_id": "e", "type": etype, **fields}))


def test_tracker_hides_restated_echoes_and_resends_what_the_server_never_confirmed():
    tracker = ConversationTracker()
    greet = {
        "id": "s",
        "type": "message",
        "role": "system",
        "content": [{"type": "input_text", "text": "Greet."}],
    }
    tracker.sent("s", {"type": "conversation.item.create", "item": greet})
    tracker.sent("x", {"type": "conversation.item.create", "item": {"id": "x"}})
    assert not tracker.settled
    assert tracker.observe(_event("conversation.item.added", item=greet))
    assert [m["item"]["id"] for m in tracker.take_unacked()] == ["x"]
    assert tracker.settled and tracker.take_unacked() == []
    assert [i["id"] for i in tracker.replay()] == ["s"]
    # The new session's echo of a restated item is not news, up to its item.done.
    assert not tracker.observe(_event("conversation.item.added", item=greet))
    assert not tracker.observe(_event("conversation.item.done", item=greet))
    assert tracker.observe(_event("conversation.item.done", item=greet))
    tracker.transcript_due("u")
    assert not tracker.settled
    failed = _event(
        "conversation.item.input_audio_transcription.failed",
        item_id="u",
        content_index=0,
        error={"type": "server_error", "message": "no"},
    )
    assert tracker.observe(failed)
    assert tracker.settled


def test_backlog_keeps_uncommitted_and_held_audio_newest_first_within_bound():
    backlog = AudioBacklog(max_s=1.0, bytes_per_s=10)
    backlog.sent(b"0123")
    backlog.committed()
    backlog.sent(b"abcd")
    backlog.hold(b"efghijk")
    assert backlog.take() == b"bcdefghijk"  # 1 s = 10 bytes, the oldest byte dropped
    backlog.hold(b"x" * 14)
    assert backlog.dropped_s == pytest.approx(0.4)
    assert backlog.take() == b"x" * 10
    assert backlog.take() == b""
