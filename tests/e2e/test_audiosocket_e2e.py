"""End to end over Asterisk's AudioSocket: the real runner.py (`--transport audiosocket`),
the Realtime emulator, and sim.asterisk placing calls the way a FreePBX dialplan does
(FastAGI register with the caller's details, AudioSocket, FastAGI after)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from sim.asterisk import AudioSocketCall, call_with_agi
from sim.asterisk.audiosocket import message
from sim.bot_process import run_bot
from tests.helpers.asterisk_calls import (
    CALLER_SAID,
    AsteriskPorts,
    barge_ins,
    record_of,
    two_turns,
)

pytestmark = pytest.mark.e2e

# The bar is 60 ms from the barge-in reaching the bot to silence; a shared 2-core
# machine adds scheduling noise on both sides of the measure, so the test allows more and
# prints what it measured.
STOP_AFTER_DETECTION_LIMIT_S = 0.15


async def test_8k_and_16k_calls_with_caller_details_from_fastagi(emulator, tmp_path):
    ports = AsteriskPorts.free()
    args = (*ports.args("audiosocket"), "--realtime-url", emulator.url)
    agi = f"127.0.0.1:{ports.agi}"
    async with run_bot(tmp_path, *args) as bot:
        calls = [
            AudioSocketCall("127.0.0.1", ports.audiosocket, two_turns(), rate=8000),
            AudioSocketCall("127.0.0.1", ports.audiosocket, two_turns(), rate=16000),
        ]
        names = ["Ada Lovelace", "Grace Hopper"]
        results = await asyncio.gather(
            *(
                call_with_agi(call, agi, "+15551230000", name, "2001")
                for call, name in zip(calls, names, strict=True)
            )
        )
        records = await bot.wait_for_records(2)
        log = bot.log()

    for call, result, name in zip(calls, results, names, strict=True):
        label = f"{call.rate} Hz"
        assert result.connected and result.errors == [], (label, result.errors)
        assert result.greeting_delay_s is not None and result.greeting_delay_s < 2.0, label
        assert len(result.turns) == 2 and all(t.latency_s is not None for t in result.turns)
        assert all(t.bot_audio_s > 1.0 for t in result.turns), label
        assert result.audio_kinds == ["0x10" if call.rate == 8000 else "0x12"], label
        # Asterisk writes what it gets at once: the bot paces itself.
        assert result.max_lead_frames is not None and result.max_lead_frames <= 3, label
        assert result.agi_variables == {"AI_REGISTERED": "1", "AI_ACTION": "hangup"}

        record = record_of(records, result.stream_sid)  # the AudioSocket UUID
        assert record["transport"] == "audiosocket" and record["end_reason"] == "caller hung up"
        assert (record["caller_name"], record["called_number"]) == (name, "2001")
        said = [(t["role"], t["text"]) for t in record["transcript"]]
        assert said[0][1].startswith(f"Hello {name},"), said
        assert [text for role, text in said if role == "caller"] == CALLER_SAID

        # The second utterance barged in on the first answer.
        session = next(s for s in emulator.sessions if _caller_of(s) == name)
        [barge_in] = barge_ins(result, session)
        stop_s = barge_in.stop_after_detection_s
        print(
            f"audiosocket {label}: greeting {result.greeting_delay_s:.3f}s, latencies "
            f"{[round(t.latency_s, 3) for t in result.turns]}, max lead "
            f"{result.max_lead_frames} frames, stop after the caller started "
            f"{result.barge_in_stop_delays_s[0] * 1000:.0f} ms, after detection "
            f"{stop_s * 1000:.0f} ms"
        )
        assert stop_s <= STOP_AFTER_DETECTION_LIMIT_S, stop_s
        assert result.barge_in_stop_delays_s[0] < 0.6
        answers = [i["id"] for i in session.items if i.get("role") == "assistant"]
        assert any(t["item_id"] == answers[1] for t in session.truncations)
    assert "mode=reference" in log  # the echo gate ran on these phone lines


def _caller_of(session) -> str:
    """Whose call a session served: the greeting it was told to say names the caller."""
    greeting = next(
        c["text"]
        for i in session.items
        for c in i.get("content", [])
        if "Say exactly" in c.get("text", "")
    )
    return "Grace Hopper" if "Grace Hopper" in greeting else "Ada Lovelace"


async def test_bad_input_ends_only_that_call(emulator, tmp_path):
    ports = AsteriskPorts.free()
    args = (*ports.args("audiosocket"), "--realtime-url", emulator.url)
    async with run_bot(tmp_path, *args) as bot:
        good = asyncio.create_task(
            AudioSocketCall("127.0.0.1", ports.audiosocket, two_turns()).run()
        )
        junk = {
            "bad type": message(0x42, b"?"),
            "zero length": message(0x10, b""),
            "audio before uuid": None,
        }
        closed = await asyncio.gather(*(send_junk(ports.audiosocket, j) for j in junk.values()))
        result = await good
        records = await bot.wait_for_records(3)
        log = bot.log()
    assert all(closed), "the server must close a broken line"
    assert result.connected and all(t.latency_s is not None for t in result.turns)
    assert record_of(records, result.stream_sid)["end_reason"] == "caller hung up"
    reasons = sorted(r["end_reason"] for r in records if r["call_id"] != result.stream_sid)
    assert reasons == [
        "protocol error: unknown AudioSocket message kind 0x42",
        "protocol error: zero-length message of kind 0x10",
    ]
    # Audio before the UUID never becomes a call: one log line says why.
    assert log.count("refusing an AudioSocket call") == 1
    assert "audio before the UUID" in log


async def send_junk(port: int, junk: bytes | None) -> bool:
    """UUID and a little audio as Asterisk sends them, then one bad message (or, with None,
    audio first). True once the server has closed the socket."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    audio = message(0x10, bytes(320))
    try:
        if junk is None:
            writer.write(audio)
        else:
            writer.write(message(0x01, uuid.uuid4().bytes))
            for _ in range(10):
                writer.write(audio)
                await writer.drain()
                await asyncio.sleep(0.02)
            writer.write(junk)
        await writer.drain()
        async with asyncio.timeout(10):
            while await reader.read(4096):
                pass
        return True
    except TimeoutError:
        return False
    finally:
        writer.close()
