"""The Asterisk lines inside the test process: the telephony server with `WS /asterisk`
honouring MEDIA_XOFF/XON and MAX_CONCURRENT_CALLS, and the FastAGI server's answers
(secret, unknown requests, deadlines) over real loopback sockets."""

from __future__ import annotations

import asyncio
import json
import time

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from bot.asterisk.agi_server import AgiServer
from bot.asterisk.calls import CallDirectory
from bot.asterisk.lines import AsteriskLines, AsteriskOptions
from bot.config.caller_info import CallerInfo
from bot.config.settings import Settings
from pipelines.call_control.asterisk import Handoff
from sim.asterisk import AgiChannel, run_fastagi
from sim.bot_process import free_port
from tests.helpers.inprocess_server import serve_inprocess

MEDIA_START = {
    "event": "MEDIA_START",
    "connection_id": "ai_bot",
    "channel": "WebSocket/ai_bot/0x1",
    "channel_id": "1754400000.1",
    "format": "ulaw",
    "optimal_frame_size": 160,
    "ptime": 20,
}


def asterisk_lines(server):
    return AsteriskLines(server, AsteriskOptions(agi_port=free_port()))


async def test_bot_audio_waits_while_asterisk_says_xoff(make_emu, tmp_path):
    emu = await make_emu(stream_speed=4.0)
    settings = Settings(records_dir=tmp_path)
    async with serve_inprocess(settings, emu.url, "asterisk", extend=asterisk_lines) as srv:
        url = f"ws://127.0.0.1:{srv.port}/asterisk"
        async with connect(url, subprotocols=["media"]) as ws:  # type: ignore[list-item]
            await ws.send(json.dumps(MEDIA_START))
            arrivals: list[tuple[float, str | bytes]] = []

            async def caller_audio() -> None:
                while True:
                    await ws.send(b"\xff" * 160)
                    await asyncio.sleep(0.02)

            talking = asyncio.create_task(caller_audio())
            try:
                async with asyncio.timeout(10):
                    async for message in ws:
                        arrivals.append((time.monotonic(), message))
                        if isinstance(message, bytes):
                            break
                await ws.send(json.dumps({"event": "MEDIA_XOFF", "channel_id": "1754400000.1"}))
                xoff_at = time.monotonic()
                held = [m async for m in _messages_for(ws, 0.8)]
                await ws.send(json.dumps({"event": "MEDIA_XON", "channel_id": "1754400000.1"}))
                resumed = [m async for m in _messages_for(ws, 0.5)]
            finally:
                talking.cancel()
    commands = [json.loads(m)["command"] for _, m in arrivals if isinstance(m, str)]
    assert commands[0] == "ANSWER"  # in the call's format (JSON)
    # At most the chunk already on its way when XOFF arrived, then nothing until XON.
    late = [t for t, m in held if isinstance(m, bytes) and t - xoff_at > 0.15]
    assert late == [], f"{len(late)} audio messages during XOFF"
    assert any(isinstance(m, bytes) for _, m in resumed), "audio resumes on XON"


async def _messages_for(ws, seconds: float):
    try:
        async with asyncio.timeout(seconds):
            async for message in ws:
                yield time.monotonic(), message
    except TimeoutError:
        return


async def test_one_call_more_than_the_limit_is_refused_with_1013(make_emu, tmp_path):
    emu = await make_emu()
    settings = Settings(records_dir=tmp_path, max_concurrent_calls=1)
    async with serve_inprocess(settings, emu.url, "asterisk", extend=asterisk_lines) as srv:
        url = f"ws://127.0.0.1:{srv.port}/asterisk"
        async with connect(url, subprotocols=["media"]) as first:  # type: ignore[list-item]
            await first.send(json.dumps(MEDIA_START))
            async with connect(url, subprotocols=["media"]) as second:  # type: ignore[list-item]
                try:
                    await asyncio.wait_for(second.recv(), 5)
                except ConnectionClosed:
                    pass
                assert second.close_code == 1013
        # Without the `media` subprotocol Asterisk's config is wrong: refused, said why.
        async with connect(url) as third:
            try:
                await asyncio.wait_for(third.recv(), 5)
            except ConnectionClosed:
                pass
            assert third.close_code == 1008
        log = srv.log_text()
    assert "refusing an Asterisk call (1013): busy: 1 calls in progress" in log
    assert "subprotocol 'media' not offered" in log


async def test_fastagi_answers_register_after_and_unknown_ids():
    directory = CallDirectory()
    agi = AgiServer(directory, port=0)
    await agi.start()
    url = f"agi://127.0.0.1:{agi.port}"
    try:
        channel = AgiChannel(callerid="+15551230000", calleridname="Ada {x}", dnid="2001")
        register = await run_fastagi(f"{url}/register", ["u-1"], channel)
        assert register.variables == {"AI_REGISTERED": "1"}
        caller = directory.take_registration(["u-1"])
        assert caller == CallerInfo(number="+15551230000", name="Ada x", called_number="2001")

        outcome = directory.call_started("u-1", ["u-1"])
        outcome.hand_off(Handoff("voicemail", "2001@default"))
        after = await run_fastagi(f"{url}/after", ["u-1"], dead=True)
        assert after.variables == {"AI_ACTION": "voicemail", "AI_TARGET": "2001@default"}
        assert after.replies == ["200 result=1", "200 result=1"]

        unknown = await run_fastagi(f"{url}/after", ["u-2"])
        assert unknown.variables["AI_ACTION"] == "unknown" and unknown.duration_s < 1
        odd = await run_fastagi(f"{url}/frobnicate", ["u-1"])
        assert odd.variables["AI_ACTION"] == "error"
        assert "unknown request 'frobnicate'" in odd.variables["AI_ERROR"]
        missing = await run_fastagi(f"{url}/after")
        assert missing.variables["AI_ERROR"] == "after needs the call id argument"
    finally:
        await agi.stop()


async def test_fastagi_waits_briefly_for_a_call_still_finishing():
    directory = CallDirectory()
    agi = AgiServer(directory, port=0, after_wait_s=0.3)
    await agi.start()
    try:
        directory.call_started("u-3", ["u-3"])  # live: never finishes
        started = time.monotonic()
        after = await run_fastagi(f"agi://127.0.0.1:{agi.port}/after", ["u-3"])
        assert after.variables == {"AI_ACTION": "hangup"}
        assert 0.3 <= time.monotonic() - started < 2
    finally:
        await agi.stop()


async def test_fastagi_secret_and_session_deadline():
    agi = AgiServer(CallDirectory(), port=0, secret="s3cret", session_timeout_s=0.3)
    await agi.start()
    url = f"agi://127.0.0.1:{agi.port}"
    try:
        refused = await run_fastagi(f"{url}/after", ["u-1", "wrong"])
        assert refused.variables["AI_ACTION"] == "refused"
        allowed = await run_fastagi(f"{url}/after", ["u-1", "s3cret"])
        assert allowed.variables["AI_ACTION"] == "unknown"
        # A peer that never finishes its environment is closed at the deadline.
        reader, writer = await asyncio.open_connection("127.0.0.1", agi.port)
        writer.write(b"agi_network: yes\n")
        await writer.drain()
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 3) == b""
        assert time.monotonic() - started < 1.5
        writer.close()
    finally:
        await agi.stop()
