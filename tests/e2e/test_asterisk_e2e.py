"""End to end over Asterisk's chan_websocket: the real runner.py (`--transport asterisk`),
the Realtime emulator, and sim.asterisk playing Asterisk dialling the bot."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import yaml
from websockets.asyncio.client import connect

from sim.asterisk import AsteriskWebSocketCall
from sim.bot_process import bot_env, run_bot
from sim.phone import Dtmf, Silence
from tests.helpers.asterisk_calls import (
    CALLER_SAID,
    AsteriskPorts,
    barge_ins,
    record_of,
    two_turns,
)
from tests.helpers.sockets import closed_by_server

pytestmark = pytest.mark.e2e

SESSION_FORMATS = {"ulaw": "audio/pcmu", "alaw": "audio/pcma", "slin16": "audio/pcm"}


def session_of(emulator, codec: str):
    """The emulator session whose input format is this call's (one call per codec here)."""
    wanted = SESSION_FORMATS[codec]
    return next(
        s for s in emulator.sessions if s.config["audio"]["input"]["format"]["type"] == wanted
    )


def profile_file(tmp_path: Path, name: str, greeting: str, **extra) -> Path:
    path = tmp_path / f"{name}.yaml"
    body = {"name": name, "instructions": "You answer calls for {company_name}."}
    path.write_text(yaml.safe_dump({**body, "greeting": greeting, **extra}))
    return path


async def test_text_ulaw_json_slin16_and_json_alaw_calls(emulator, tmp_path):
    # The A-law call dials 2002, which DID_PROFILES gives its own profile (a FreePBX context).
    sales = profile_file(tmp_path, "sales_line", "Sales line. Hello {caller_name}.")
    env = bot_env(tmp_path, DID_PROFILES=f"2002={sales}")
    args = (*AsteriskPorts.free().args("asterisk"), "--realtime-url", emulator.url)
    async with run_bot(tmp_path, *args, env=env) as bot:
        calls = [
            # Plain-text control, caller details on the URI (v(cid=…,cname=…,did=…)).
            AsteriskWebSocketCall(
                bot.asterisk_url, two_turns(), "ulaw", "text", caller_name="Ada Lovelace"
            ),
            # JSON control, caller details only as channel variables (AI_CID/AI_CNAME/AI_DID).
            AsteriskWebSocketCall(
                bot.asterisk_url,
                two_turns(),
                "slin16",
                "json",
                caller_number="+15551239999",
                caller_name="Grace Hopper",
                uri_params={},
            ),
            AsteriskWebSocketCall(
                bot.asterisk_url,
                two_turns(),
                "alaw",
                "json",
                caller_name="Ada",
                dialed_number="2002",
            ),
        ]
        results = await asyncio.gather(*(c.run() for c in calls))
        records = await bot.wait_for_records(3)
        log = bot.log()
        async with httpx.AsyncClient() as client:
            health = (await client.get(f"{bot.http_url}/health")).json()
            metrics = (await client.get(f"{bot.http_url}/metrics")).text
    assert health["provider"] == "asterisk" and health["active_calls"] == 0
    assert "voicebot_calls_total 3.0" in metrics

    names = ["Ada Lovelace", "Grace Hopper", "Ada"]
    greetings = ["Hello Ada Lovelace,", "Hello Grace Hopper,", "Sales line. Hello Ada."]
    for call, result, name, greeting in zip(calls, results, names, greetings, strict=True):
        label = f"{call.codec.name}/{call.format.value}"
        assert result.connected and result.answered, (label, result.errors)
        assert result.greeting_delay_s is not None and result.greeting_delay_s < 2.0, label
        assert len(result.turns) == 2 and all(t.latency_s is not None for t in result.turns)
        assert all(t.bot_audio_s > 1.0 for t in result.turns), label
        # Asterisk's side saw only what it accepts: whole frames, commands it knows, a short
        # queue, and every mark answered in order.
        assert result.partial_frames_dropped == 0 and result.control_ignored == [], label
        assert result.errors_sent == [] and result.messages_dropped_queue_full == 0, label
        assert result.xoff == 0 and result.max_queue_frames <= 20, label
        assert result.marks_answered > 20, label
        # The second utterance barged in on the first answer: flushed, and nothing the bot had
        # queued before the flush was played to the caller afterwards.
        assert result.clears >= 2 and result.heard_after_flush_s == 0.0, label
        assert result.closed_by == "caller", label

        record = record_of(records, result.call_sid)
        assert record["transport"] == "asterisk" and record["end_reason"] == "caller hung up"
        assert record["caller_name"] == name
        said = [(t["role"], t["text"]) for t in record["transcript"]]
        assert said[0][0] == "bot" and said[0][1].startswith(greeting), said
        assert record["profile"] == ("sales_line" if call.codec.name == "alaw" else "default")
        assert [text for role, text in said if role == "caller"] == CALLER_SAID

        # The interrupted answer was truncated where the caller had heard it to.
        session = session_of(emulator, call.codec.name)
        [barge_in] = barge_ins(result, session)
        answers = [i["id"] for i in session.items if i.get("role") == "assistant"]
        [truncation] = [t for t in session.truncations if t["item_id"] == answers[1]]
        played_ms = barge_in.played_at_detection_ms
        print(
            f"{label}: greeting {result.greeting_delay_s:.3f}s, latencies "
            f"{[round(t.latency_s, 3) for t in result.turns]}, truncated at "
            f"{truncation['audio_end_ms']} ms vs heard {played_ms} ms, stop after detection "
            f"{barge_in.stop_after_detection_s * 1000:.0f} ms"
        )
        assert abs(truncation["audio_end_ms"] - played_ms) <= 250, (truncation, played_ms)
    assert "barge-in after" in log and "mode=reference" in log  # marks counted, gate ran


async def test_bad_input_ends_only_that_call(emulator, tmp_path):
    keypad = {"name": "dtmf", "options": {"inter_digit_timeout_s": 1.0}}
    profile = profile_file(tmp_path, "keypad", "Hello {caller_name}.", processors=[keypad])
    args = (*AsteriskPorts.free().args("asterisk"), "--realtime-url", emulator.url)
    async with run_bot(tmp_path, *args, "--profile", str(profile)) as bot:
        # The good call also presses keys: DTMF_END reaches the dtmf processor.
        steps = [*two_turns(), Dtmf("12#"), Silence(1.0)]
        good = asyncio.create_task(
            AsteriskWebSocketCall(bot.asterisk_url, steps, "ulaw", "text").run()
        )
        bad = [
            ("text", "FROBNICATE now"),
            ("text", "MEDIA_XON " + "x" * 200),
            ("json", "MEDIA_XOFF"),
        ]
        closed = await asyncio.gather(*(send_junk(bot.asterisk_url, f, junk) for f, junk in bad))
        # Asterisk refuses a server that answers with an extension: none is ever answered,
        # even to a client that offers permessage-deflate.
        async with connect(
            bot.asterisk_url,
            subprotocols=["media"],  # type: ignore[list-item]
            compression="deflate",
        ) as offered:
            assert offered.subprotocol == "media"
            assert "Sec-WebSocket-Extensions" not in offered.response.headers
        result = await good
        records = await bot.wait_for_records(4)
        log = bot.log()
    assert all(closed), "the server must close a broken line"
    assert result.connected and all(t.latency_s is not None for t in result.turns)
    good_record = record_of(records, result.call_sid)
    assert good_record["end_reason"] == "caller hung up"
    keys = [e["event"] for e in good_record["events"] if e["source"] == "dtmf"]
    assert keys == ["keys 12#: sent to the model"]
    reasons = sorted(r["end_reason"] for r in records if r["call_id"] != result.call_sid)
    assert reasons == [
        "protocol error: control message of 210 bytes exceeds 128",
        "protocol error: non-JSON control message (Expecting value)",
        "protocol error: unknown chan_websocket event 'FROBNICATE'",
    ]
    assert log.count("ending (protocol error:") == 3


async def send_junk(url: str, fmt: str, junk: str) -> bool:
    """MEDIA_START as Asterisk sends it, a little caller audio, then one bad TEXT frame.
    True once the server has closed the socket."""
    fields = {
        "connection_id": "ai_bot",
        "channel": "WebSocket/ai_bot/0x1",
        "channel_id": f"junk-{fmt}-{len(junk)}",
        "format": "ulaw",
        "optimal_frame_size": 160,
        "ptime": 20,
    }
    if fmt == "json":
        text = json.dumps({"event": "MEDIA_START", **fields})
    else:
        text = " ".join(["MEDIA_START", *(f"{k}:{v}" for k, v in fields.items())])
    async with connect(f"{url}?cid=%2B15550001111", subprotocols=["media"]) as ws:  # type: ignore[list-item]
        await ws.send(text)
        for _ in range(10):
            await ws.send(b"\xff" * 160)
            await asyncio.sleep(0.02)
        await ws.send(junk)
        return await closed_by_server(ws)
