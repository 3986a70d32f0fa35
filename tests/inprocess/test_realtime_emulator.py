"""Conformance tests of the OpenAI Realtime (GA) emulator over real sockets."""

from __future__ import annotations

import base64
import json
import time

import pytest

from sim.realtime import ScriptedFunctionCall
from sim.realtime.client import RealtimeClient, clip_samples, silence
from sim.realtime.clips import manifest
from tests.helpers.realtime_conformance import assert_conforming

CALLER = "caller_order_status.wav"


def _audio_ms(deltas: list[dict], bytes_per_ms: int = 48) -> int:
    return sum(len(base64.b64decode(d["delta"])) for d in deltas) // bytes_per_ms


def _caller_turn() -> object:
    import numpy as np

    return np.concatenate([silence(400), clip_samples(CALLER), silence(1200)])


async def test_session_created_and_update(make_emu):
    emu = await make_emu(session_cap_s=1800)
    client = await RealtimeClient.connect(emu.url, model="gpt-realtime-2")
    created = await client.wait_for("session.created")
    session = created["session"]
    assert session["id"].startswith("sess_") and session["model"] == "gpt-realtime-2"
    assert session["output_modalities"] == ["audio"]
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    assert session["audio"]["output"]["voice"] == "marin"
    td = session["audio"]["input"]["turn_detection"]
    assert (td["type"], td["threshold"], td["prefix_padding_ms"], td["silence_duration_ms"]) == (
        "server_vad",
        0.5,
        300,
        500,
    )
    assert abs(session["expires_at"] - (time.time() + 1800)) < 5
    tool = {
        "type": "function",
        "name": "lookup",
        "description": "d",
        "parameters": {"type": "object", "properties": {}},
    }
    await client.send(
        "session.update", session={"type": "realtime", "instructions": "Be brief.", "tools": [tool]}
    )
    updated = (await client.wait_for("session.updated"))["session"]
    assert updated["instructions"] == "Be brief." and updated["tools"] == [tool]
    assert updated["audio"] == session["audio"]  # untouched parts stay
    assert emu.sessions[0].config["instructions"] == "Be brief."
    assert emu.url.endswith("/v1/realtime") and str(emu.port) in emu.url
    assert_conforming(client.received)
    await client.close()


async def test_scripted_conversation(make_emu):
    texts = manifest()
    emu = await make_emu(
        function_calls=[
            ScriptedFunctionCall(
                after_user_turn=1, name="get_order_status", arguments='{"order_id": "A17"}'
            )
        ]
    )
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    await client.send(
        "session.update",
        session={"type": "realtime", "audio": {"input": {"transcription": {"model": "whisper-1"}}}},
    )
    await client.wait_for("session.updated")

    # greeting: first response without user audio plays bot_greeting
    await client.send("response.create")
    done = await client.wait_for("response.done")
    greeting = done["response"]["output"][0]
    assert done["response"]["status"] == "completed"
    assert greeting["content"][0]["transcript"] == texts["bot"]["bot_greeting.wav"]
    deltas = [
        e for e in client.of_type("response.output_audio.delta") if e["item_id"] == greeting["id"]
    ]
    assert abs(_audio_ms(deltas) - 4288) < 150
    usage = done["response"]["usage"]
    assert usage["output_token_details"]["audio_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]

    # a caller turn: VAD, commit, transcription, then the scripted function call
    await client.send_audio(_caller_turn())
    started = await client.wait_for("input_audio_buffer.speech_started")
    stopped = await client.wait_for("input_audio_buffer.speech_stopped")
    assert started["item_id"] == stopped["item_id"]
    assert 0 <= started["audio_start_ms"] <= 400
    assert 3000 < stopped["audio_end_ms"] - started["audio_start_ms"] < 4500
    committed = await client.wait_for("input_audio_buffer.committed", item_id=started["item_id"])
    assert committed["previous_item_id"] == greeting["id"]
    transcript = await client.wait_for("conversation.item.input_audio_transcription.completed")
    assert transcript["transcript"] == texts["caller"][CALLER]
    args = await client.wait_for("response.function_call_arguments.done")
    fc_done = await client.wait_for("response.done")
    call = fc_done["response"]["output"][0]
    assert call["type"] == "function_call" and call["name"] == "get_order_status"
    assert json.loads(args["arguments"]) == {"order_id": "A17"}
    assert args["call_id"] == call["call_id"]

    # tool result then reply with audio
    await client.send(
        "conversation.item.create",
        item={"type": "function_call_output", "call_id": call["call_id"], "output": '{"ok": true}'},
    )
    output_item = (await client.wait_for("conversation.item.added"))["item"]
    await client.send("response.create")
    reply_done = await client.wait_for("response.done")
    reply = reply_done["response"]["output"][0]
    assert reply["content"][0]["transcript"] == texts["bot"]["bot_reply_1.wav"]
    session = emu.sessions[0]
    kinds = [(i["type"], i.get("role")) for i in session.items]
    assert kinds == [
        ("message", "assistant"),
        ("message", "user"),
        ("function_call", None),
        ("function_call_output", None),
        ("message", "assistant"),
    ]
    assert session.items[1]["content"][0]["transcript"] == texts["caller"][CALLER]

    # retrieve the user item (with audio) and an unknown one
    await client.send("conversation.item.retrieve", item_id=started["item_id"])
    retrieved = (await client.wait_for("conversation.item.retrieved"))["item"]
    assert retrieved["content"][0]["transcript"] == texts["caller"][CALLER]
    assert len(base64.b64decode(retrieved["content"][0]["audio"])) > 48 * 3000
    bad_id = await client.send("conversation.item.retrieve", item_id="item_nope")
    err = (await client.wait_for("error"))["error"]
    assert (err["code"], err["event_id"]) == ("item_retrieve_invalid_item_id", bad_id)

    # truncate the reply as a barging-in client would
    await client.send(
        "conversation.item.truncate", item_id=reply["id"], content_index=0, audio_end_ms=1000
    )
    truncated = await client.wait_for("conversation.item.truncated")
    assert (truncated["item_id"], truncated["audio_end_ms"]) == (reply["id"], 1000)
    assert session.truncations == [{"item_id": reply["id"], "audio_end_ms": 1000}]
    kept = session.find_item(reply["id"])["content"][0]["transcript"]
    assert 0 < len(kept) < len(texts["bot"]["bot_reply_1.wav"])
    await client.send(
        "conversation.item.truncate", item_id=reply["id"], content_index=0, audio_end_ms=60_000
    )
    err = (await client.wait_for("error"))["error"]
    assert err["param"] == "audio_end_ms" and "shorter than 60000ms" in err["message"]

    # delete
    await client.send("conversation.item.delete", item_id=output_item["id"])
    assert (await client.wait_for("conversation.item.deleted"))["item_id"] == output_item["id"]
    assert output_item["id"] not in [i["id"] for i in session.items]

    # cancel, cancel with nothing active, double create
    await client.send("response.create")
    await client.wait_for("response.created")
    await client.send("response.create")
    err = (await client.wait_for("error"))["error"]
    assert err["code"] == "conversation_already_has_active_response"
    await client.send("response.cancel")
    cancelled = await client.wait_for("response.done")
    assert cancelled["response"]["status"] == "cancelled"
    assert cancelled["response"]["status_details"] == {
        "type": "cancelled",
        "reason": "client_cancelled",
    }
    assert session.cancellations[-1]["reason"] == "client_cancelled"
    await client.send("response.cancel")
    assert (await client.wait_for("error"))["error"]["code"] == "response_cancel_not_active"
    assert_conforming(client.received)
    await client.close()


async def test_say_exactly_convention(make_emu):
    emu = await make_emu()
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    await client.send(
        "conversation.item.create",
        item={
            "type": "message",
            "role": "system",
            "content": [
                {"type": "input_text", "text": 'Greet now. Say exactly: "Acme Parcels, hi!"'}
            ],
        },
    )
    await client.wait_for("conversation.item.done")
    await client.send("response.create")
    first = await client.wait_for("response.done")
    assert first["response"]["output"][0]["content"][0]["transcript"] == "Acme Parcels, hi!"
    await client.send("response.create")
    second = await client.wait_for("response.done")
    assert second["response"]["output"][0]["content"][0]["transcript"] != "Acme Parcels, hi!"
    assert_conforming(client.received)


async def test_barge_in_cancels_response(make_emu):
    emu = await make_emu(stream_speed=1.0)  # replies take seconds of wall-clock
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    await client.send("response.create")
    created = await client.wait_for("response.created")
    await client.wait_for("response.output_audio.delta")
    await client.send_audio(_caller_turn())
    await client.wait_for("input_audio_buffer.speech_started")
    done = await client.wait_for("response.done")
    assert done["response"]["id"] == created["response"]["id"]
    assert done["response"]["status_details"]["reason"] == "turn_detected"
    assert done["response"]["output"][0]["status"] == "incomplete"
    session = emu.sessions[0]
    assert session.cancellations[0]["response_id"] == created["response"]["id"]
    assert session.cancellations[0]["reason"] == "turn_detected"
    # the user's turn still gets its own response afterwards
    nxt = await client.wait_for("response.created")
    assert nxt["response"]["id"] != created["response"]["id"]
    assert_conforming(client.received)


@pytest.mark.parametrize(
    "key,value",
    [
        ("modalities", ["audio"]),
        ("input_audio_format", "pcm16"),
        ("temperature", 0.8),
        ("max_response_output_tokens", 100),
        ("voice", "alloy"),
        ("turn_detection", {"type": "server_vad"}),
    ],
)
async def test_beta_keys_rejected(make_emu, key, value):
    emu = await make_emu()
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    before = dict(emu.sessions[0].config)
    event_id = await client.send(
        "session.update", session={"type": "realtime", "instructions": "x", key: value}
    )
    err = (await client.wait_for("error"))["error"]
    assert err == {
        "type": "invalid_request_error",
        "code": "unknown_parameter",
        "message": f"Unknown parameter: 'session.{key}'.",
        "param": f"session.{key}",
        "event_id": event_id,
    }
    assert emu.sessions[0].config == before
    assert not client.of_type("session.updated")
    assert_conforming(client.received)


async def test_nested_tool_rejected(make_emu):
    emu = await make_emu()
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    await client.send(
        "session.update",
        session={
            "type": "realtime",
            "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {}}}],
        },
    )
    err = (await client.wait_for("error"))["error"]
    assert err["code"] == "missing_required_parameter"
    assert err["message"] == "Missing required parameter: 'session.tools[0].name'."
    assert err["param"] == "session.tools[0].name"


async def test_bad_client_messages_do_not_crash(make_emu):
    emu = await make_emu()
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    await client.send_raw("this is not json")
    assert (await client.wait_for("error"))["error"]["code"] == "invalid_json"
    eid = await client.send("response.dance")
    err = (await client.wait_for("error"))["error"]
    assert (err["code"], err["type"], err["event_id"]) == (
        "unknown_event_type",
        "invalid_request_error",
        eid,
    )
    assert "response.dance" in err["message"]
    await client.send("input_audio_buffer.append", audio="@@not base64@@")
    err = (await client.wait_for("error"))["error"]
    assert err["type"] == "invalid_request_error"
    await client.send("input_audio_buffer.commit")
    assert (await client.wait_for("error"))["error"]["code"] == "input_audio_buffer_commit_empty"
    await client.send("conversation.item.delete", item_id="item_x")
    assert (await client.wait_for("error"))["error"]["code"] == "item_delete_invalid_item_id"
    # still alive
    await client.send("input_audio_buffer.clear")
    await client.wait_for("input_audio_buffer.cleared")
    assert not emu.sessions[0].closed
    assert_conforming(client.received)
