"""sim.asterisk's AudioSocket and FastAGI sides against fake bots in the test process."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest

from sim.asterisk import AudioSocketCall, run_fastagi
from sim.asterisk.agi import AgiChannel
from sim.asterisk.audiosocket import message
from sim.phone.steps import Dtmf, Say, Silence
from tests.helpers.fake_asterisk_bots import Peer, speech_wav, tcp_server, tone_bytes


@pytest.mark.parametrize("pacing", ["dumps", "paced"])
async def test_lead_and_barge_in_stop(tmp_path: Path, pacing: str) -> None:
    seen: dict[str, object] = {}

    async def bot(peer: Peer) -> None:
        await peer.until(lambda: bool(peer.messages))
        seen["first"] = peer.messages[0]
        frames = [message(0x10, tone_bytes(0.02)) for _ in range(100)]  # 2 s of answer
        if pacing == "dumps":
            await peer.send(b"".join(frames))
        else:
            start = time.monotonic()
            for k, frame in enumerate(frames):
                if peer.caller_voiced():
                    break  # a bot that stops talking when the caller does
                await peer.send(frame)
                await asyncio.sleep(max(0.0, start + (k + 1) * 0.02 - time.monotonic()))
        await peer.task
        seen["kinds"] = {(k, len(p)) for k, p in peer.messages[1:]}

    clip = speech_wav(tmp_path / "barge_in.wav")
    async with tcp_server(bot) as port:
        call = AudioSocketCall(
            "127.0.0.1", port, steps=[Silence(0.4), Say(clip), Silence(1.3)], wait_for_greeting_s=0
        )
        result = await call.run()

    assert seen["first"] == (0x01, uuid.UUID(call.uuid).bytes)  # the UUID comes first
    assert seen["kinds"] == {(0x10, 320)}  # then 20 ms of 8 kHz slin per message
    assert result.closed_by == "caller" and result.audio_kinds == ["0x10"]
    assert result.barge_in_times_s
    if pacing == "dumps":
        assert 95 <= result.max_lead_frames <= 100
        assert result.barge_in_stop_delays_s[0] >= 1.4  # the caller hears it all
    else:
        assert result.max_lead_frames is not None and result.max_lead_frames <= 2
        assert result.barge_in_stop_delays_s[0] < 0.15


async def test_wideband_dtmf_and_hangup_from_the_bot() -> None:
    seen: dict[str, object] = {}

    async def bot(peer: Peer) -> None:
        await peer.until(lambda: any(k == 0x03 for k, _ in peer.messages))
        await peer.send(message(0x10, tone_bytes(0.2)))  # 8 kHz audio on a 16 kHz line
        await asyncio.sleep(0.3)
        await peer.send(message(0x00, b""))
        await peer.task
        seen["kinds"] = {(k, len(p)) for k, p in peer.messages[1:]}

    async with tcp_server(bot) as port:
        result = await AudioSocketCall(
            "127.0.0.1", port, rate=16000, steps=[Dtmf("7"), Silence(2.0)], wait_for_greeting_s=0
        ).run()
    assert seen["kinds"] == {(0x12, 640), (0x03, 1)}
    assert result.hangup_received and result.closed_by == "server"
    assert result.duration_s < 1.5 and result.audio_kinds == ["0x10"]
    assert result.bot_audio_total_s == pytest.approx(0.2, abs=0.03)


@pytest.mark.parametrize("bad", [message(0x01, bytes(16)), b"\x10\x00\x00"], ids=["uuid", "empty"])
async def test_a_message_asterisk_does_not_accept_ends_the_session(bad: bytes) -> None:
    async def bot(peer: Peer) -> None:
        await peer.send(bad)
        await peer.task

    async with tcp_server(bot) as port:
        result = await AudioSocketCall(
            "127.0.0.1", port, steps=[Silence(2.0)], wait_for_greeting_s=0
        ).run()
    assert result.closed_by == "caller" and result.duration_s < 1.0
    assert "ends the AudioSocket session" in result.errors[0]


async def test_fastagi_never_hangs_on_a_silent_server() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # reads the environment, answers nothing, until the client leaves
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        started = time.monotonic()
        result = await run_fastagi(
            f"agi://127.0.0.1:{port}/register", ["u"], AgiChannel(), timeout_s=0.5
        )
    assert time.monotonic() - started < 1.0
    assert result.outcome == "timeout" and result.status == "FAILURE" and result.errors

    refused = await run_fastagi(f"agi://127.0.0.1:{port}/register", timeout_s=0.5)
    assert refused.outcome == "connect failed" and not refused.connected
