"""End to end over Asterisk's chan_websocket: the real runner.py (`--transport asterisk`),
the Realtime emulator, and sim.asterisk playing Asterisk dialling the bot."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from sim.asterisk import AsteriskWebSocketCall
from sim.bot_process import run_bot
from tests.helpers.asterisk_calls import (
    CALLER_SAID,
    AsteriskPorts,
    barge_ins,
    record_of,
    two_turns,
)

pytestmark = pytest.mark.e2e

SESSION_FORMATS = {"ulaw": "audio/pcmu", "alaw": "audio/pcma", "slin16": "audio/pcm"}


def session_of(emulator, codec: str):
    """The emulator session whose input format is this call's (one call per codec here)."""
    wanted = SESSION_FORMATS[codec]
    return next(
        s for s in emulator.sessions if s.config["audio"]["input"]["format"]["type"] == wanted
    )


async def test_text_ulaw_json_slin16_and_json_alaw_calls(emulator, tmp_path):
    args = (*AsteriskPorts.free().args("asterisk"), "--realtime-url", emulator.url)
    async with run_bot(tmp_path, *args) as bot:
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
            AsteriskWebSocketCall(bot.asterisk_url, two_turns(), "alaw", "json", caller_name="Ada"),
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
    for call, result, name in zip(calls, results, names, strict=True):
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
        assert said[0][0] == "bot" and said[0][1].startswith(f"Hello {name},"), said
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
    args = (*AsteriskPorts.free().args("asterisk"), "--realtime-url", emulator.url)
    async with run_bot(tmp_path, *args) as bot:
        good = asyncio.create_task(
            AsteriskWebSocketCall(bot.asterisk_url, two_turns(), "ulaw", "text").run()
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
    assert record_of(records, result.call_sid)["end_reason"] == "caller hung up"
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
        try:
            async with asyncio.timeout(10):
                async for _ in ws:
                    pass
        except ConnectionClosed:
            pass
        except TimeoutError:
            return False
    return True
