"""sim.asterisk's chan_websocket side against small fake bots (websockets servers, ``media``).

Each fake bot is a few lines of the behaviour under test; the checks are on what the bot
received (Asterisk's events, in the call's format) and on the sim's CallResult.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from sim.asterisk import AsteriskWebSocketCall
from sim.asterisk.codecs import codec
from sim.asterisk.websocket_session import wire_frame_size
from sim.phone.audio import rms
from sim.phone.steps import Dtmf, Say, Silence
from tests.helpers.fake_asterisk_bots import speech_wav

ULAW = codec("ulaw")


def tone(seconds: float, amp: float = 8000.0) -> np.ndarray:
    t = np.arange(int(seconds * 8000)) / 8000
    return (amp * np.sin(2 * np.pi * 440 * t)).astype(np.int16)


class Inbox:
    """What the fake bot received: TEXT messages with their arrival time, caller audio."""

    def __init__(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.t0 = time.monotonic()
        self.texts: list[tuple[float, str]] = []
        self.audio: list[bytes] = []
        self.changed = asyncio.Condition()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if isinstance(message, str):
                    self.texts.append((time.monotonic() - self.t0, message))
                else:
                    self.audio.append(message)
                async with self.changed:
                    self.changed.notify_all()
        except ConnectionClosed:
            pass

    def named(self, name: str) -> list[tuple[float, str]]:
        return [(t, m) for t, m in self.texts if m.startswith(name) or f'"{name}"' in m]

    async def until(self, predicate: Callable[[], bool], within_s: float) -> None:
        async with asyncio.timeout(within_s), self.changed:
            await self.changed.wait_for(predicate)

    async def wait_for(self, name: str, within_s: float = 2.0) -> float:
        """Arrival time of the first ``name`` event (waits for it)."""
        await self.until(lambda: bool(self.named(name)), within_s)
        return self.named(name)[0][0]

    async def wait_for_caller_voice(self) -> None:
        def voiced() -> bool:
            return bool(self.audio) and rms(ULAW.decode(self.audio[-1])) > 2000

        await self.until(voiced, 3.0)

    async def closed(self) -> None:
        await self.task


Bot = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def bot_server(bot: Bot, **kwargs: object) -> AsyncIterator[str]:
    async with serve(bot, "127.0.0.1", 0, subprotocols=["media"], **kwargs) as server:  # type: ignore[arg-type]
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/asterisk"


def test_wire_frame_size_counts_the_header() -> None:
    assert wire_frame_size(125) == 127
    assert wire_frame_size(65531) == 65535
    assert wire_frame_size(65532) == 65536
    assert wire_frame_size(70000) == 70010


@pytest.mark.parametrize("fmt", ["json", "plain-text"])
async def test_control_formats_are_answered_in_kind(fmt: str) -> None:
    seen: dict[str, object] = {}

    async def bot(ws: ServerConnection) -> None:
        seen["query"] = parse_qs(urlsplit(ws.request.path).query)
        inbox = Inbox(ws)
        await inbox.wait_for("MEDIA_START")
        json_fmt = fmt == "json"

        def cmd(name: str, **fields: str) -> str:
            if json_fmt:
                return json.dumps({"command": name, **fields})
            return " ".join([name, *fields.values()])

        await ws.send(ULAW.encode(tone(0.03125)))  # 250 bytes: one frame and a 90-byte tail
        await ws.send(cmd("GET_STATUS"))
        await ws.send(cmd("MARK_MEDIA", correlation_id="m1"))
        await ws.send(cmd("FROB"))
        await ws.send("X" * 129)
        if json_fmt:
            await ws.send("FLUSH_MEDIA")  # plain text on a JSON channel
        await inbox.closed()
        seen["texts"] = [m for _, m in inbox.texts]
        seen["sizes"] = {len(a) for a in inbox.audio}

    async with bot_server(bot) as url:
        call = AsteriskWebSocketCall(
            url,
            steps=[Silence(0.3), Dtmf("5", gap_s=0.1), Silence(0.1)],
            control_format=fmt,
            caller_name="Ada Lovelace",
            wait_for_greeting_s=0,
        )
        result = await call.run()

    texts: list[str] = seen["texts"]  # type: ignore[assignment]
    assert seen["query"] == {"cid": ["+15551230000"], "cname": ["Ada Lovelace"], "did": ["2001"]}
    assert seen["sizes"] == {160}  # caller audio: 20 ms ulaw frames
    if fmt == "json":
        events = [json.loads(t) for t in texts]
        start = events[0]
        assert start["event"] == "MEDIA_START" and start["format"] == "ulaw"
        assert start["optimal_frame_size"] == 160 and start["ptime"] == 20
        assert start["channel_variables"]["AI_CNAME"] == "Ada Lovelace"
        assert {e["channel_id"] for e in events} == {result.call_sid}
        by_name = {e["event"]: e for e in events}
        assert by_name["STATUS"]["queue_length"] == 1 and by_name["STATUS"]["queue_full"] is False
        assert by_name["MEDIA_MARK_PROCESSED"]["correlation_id"] == "m1"
        assert by_name["DTMF_END"]["digit"] == "5"
        assert by_name["ERROR"]["error_text"] == "Unable to parse JSON command"
        assert result.errors_sent == ["Unable to parse JSON command"]
    else:
        assert not any(t.startswith("{") for t in texts)
        assert texts[0] == (
            f"MEDIA_START connection_id:ai_bot channel:{call.channel} "
            f"channel_id:{result.call_sid} format:ulaw optimal_frame_size:160 ptime:20"
        )
        assert f"STATUS channel_id:{result.call_sid} queue_length:1 xon_level:800 " in texts[1]
        assert "MEDIA_MARK_PROCESSED m1" in texts
        assert f"DTMF_END digit:5 channel_id:{result.call_sid}" in texts
    assert result.mark_names == ["m1"] and result.status_replies == 1
    assert result.partial_frames_dropped == 1 and result.partial_bytes_dropped == 90
    assert "unknown command 'FROB'" in result.control_ignored
    assert "TEXT message of 129 bytes exceeds 128" in result.control_ignored
    assert result.closed_by == "caller" and result.close_code == 1000


async def test_flood_sends_xoff_and_a_flush_brings_xon() -> None:
    async def bot(ws: ServerConnection) -> None:
        inbox = Inbox(ws)
        await inbox.wait_for("MEDIA_START")
        for _ in range(10):  # 950 frames = 19 s of audio, far beyond the 900-frame XOFF level
            await ws.send(ULAW.encode(tone(95 * 0.02)))
        await inbox.wait_for("MEDIA_XOFF", within_s=1.0)
        await ws.send(json.dumps({"command": "FLUSH_MEDIA"}))
        await inbox.wait_for("MEDIA_XON", within_s=1.0)
        await inbox.closed()

    async with bot_server(bot) as url:
        result = await AsteriskWebSocketCall(url, steps=[Silence(0.6)], wait_for_greeting_s=0).run()
    assert result.xoff == 1 and result.xon == 1 and result.errors == []
    assert result.max_queue_frames >= 900 and result.frames_flushed >= 880
    assert result.clears == 1


async def test_xon_once_playout_drains_below_800_frames() -> None:
    times: dict[str, float] = {}
    status: list[dict] = []

    async def bot(ws: ServerConnection) -> None:
        inbox = Inbox(ws)
        await inbox.wait_for("MEDIA_START")
        # 930 frames: the 30 over the XOFF level leave 600 ms of playout (30 ticks) for the
        # sending and the status round trip on a busy machine.
        for frames in (100,) * 8 + (130,):
            await ws.send(ULAW.encode(tone(frames * 0.02)))
        times["xoff"] = await inbox.wait_for("MEDIA_XOFF", within_s=1.0)
        await ws.send('{"command":"GET_STATUS"}')
        await inbox.wait_for("STATUS")
        status.append(json.loads(inbox.named("STATUS")[0][1]))
        times["xon"] = await inbox.wait_for("MEDIA_XON", within_s=3.0)
        await inbox.closed()

    async with bot_server(bot) as url:
        result = await AsteriskWebSocketCall(url, steps=[Silence(3.0)], wait_for_greeting_s=0).run()
    assert status[0]["queue_full"] is True and status[0]["queue_length"] >= 900
    # 20 ms per frame played: from ~930 queued to 799 takes ~131 ticks.
    assert times["xon"] - times["xoff"] == pytest.approx(2.6, abs=0.15)
    assert result.xoff == 1 and result.xon == 1 and result.max_queue_frames >= 900


@pytest.mark.parametrize("keeps_talking", [False, True], ids=["stops", "keeps-old-audio"])
async def test_flush_on_barge_in(tmp_path: Path, keeps_talking: bool) -> None:
    async def bot(ws: ServerConnection) -> None:
        inbox = Inbox(ws)
        await inbox.wait_for("MEDIA_START")
        await ws.send(ULAW.encode(tone(3.0)))  # a long answer, queued at once
        await inbox.wait_for_caller_voice()
        await ws.send(json.dumps({"command": "FLUSH_MEDIA"}))
        if keeps_talking:  # the rest of the interrupted answer, still in the bot's buffers
            await ws.send(ULAW.encode(tone(1.0)))
        await inbox.closed()

    clip = speech_wav(tmp_path / "barge_in.wav", seconds=1.0, seed=1)
    async with bot_server(bot) as url:
        result = await AsteriskWebSocketCall(
            url, steps=[Silence(0.3), Say(clip), Silence(0.5)], wait_for_greeting_s=0
        ).run()
    assert result.clears == 1 and result.frames_flushed > 100
    assert result.barge_in_times_s and result.barge_in_times_s[0] == pytest.approx(0.3, abs=0.05)
    if keeps_talking:
        assert result.heard_after_flush_s >= 0.8
        assert result.barge_in_stop_delays_s[0] >= 0.8
    else:
        assert result.heard_after_flush_s == 0
        assert result.barge_in_stop_delays_s[0] < 0.15
        assert result.bot_heard_s[-1][1] < 0.5


async def test_marks_and_queue_drained_wait_for_the_audio_before_them() -> None:
    sent: dict[str, float] = {}
    inbox_box: list[Inbox] = []

    async def bot(ws: ServerConnection) -> None:
        inbox = Inbox(ws)
        inbox_box.append(inbox)
        await inbox.wait_for("MEDIA_START")
        sent["audio"] = time.monotonic() - inbox.t0
        await ws.send(ULAW.encode(tone(0.5)))
        await ws.send("MARK_MEDIA a")
        await ws.send(ULAW.encode(tone(0.3)))
        await ws.send("MARK_MEDIA b")
        await ws.send("REPORT_QUEUE_DRAINED")
        await inbox.wait_for("QUEUE_DRAINED")
        await ws.send(ULAW.encode(tone(1.0)))
        await ws.send("MARK_MEDIA c")
        await ws.send("FLUSH_MEDIA")  # drops the audio and mark c with it
        await inbox.closed()

    async with bot_server(bot) as url:
        result = await AsteriskWebSocketCall(
            url, steps=[Silence(1.3)], control_format="plain-text", wait_for_greeting_s=0
        ).run()
    inbox = inbox_box[0]
    (t_a, _), (t_b, _) = inbox.named("MEDIA_MARK_PROCESSED")
    t_drained = inbox.named("QUEUE_DRAINED")[0][0]
    assert t_a - sent["audio"] == pytest.approx(0.5, abs=0.08)
    assert t_b - sent["audio"] == pytest.approx(0.8, abs=0.08)
    assert t_b <= t_drained <= t_b + 0.06
    assert result.mark_names == ["a", "b"] and result.marks_flushed == 1
    assert result.queue_drained == 1


async def test_a_server_answering_with_extensions_is_refused() -> None:
    def add_deflate(connection: object, request: object, response: object) -> None:
        response.headers["Sec-WebSocket-Extensions"] = "permessage-deflate"  # type: ignore[attr-defined]

    async def bot(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async with bot_server(bot, process_response=add_deflate, compression=None) as url:
        result = await AsteriskWebSocketCall(url, steps=[Silence(0.2)]).run()
    assert not result.connected
    assert "Sec-WebSocket-Extensions" in result.errors[0]


@pytest.mark.parametrize("ending", ["HANGUP", "oversized frame"])
async def test_the_bot_ends_the_call(ending: str) -> None:
    codes: list[int | None] = []

    async def bot(ws: ServerConnection) -> None:
        inbox = Inbox(ws)
        await inbox.wait_for("MEDIA_START")
        await ws.send("HANGUP" if ending == "HANGUP" else bytes(70_000))
        await inbox.closed()
        codes.append(ws.close_code)

    async with bot_server(bot) as url:
        result = await AsteriskWebSocketCall(
            url, steps=[Silence(2.0)], control_format="plain-text", wait_for_greeting_s=0
        ).run()
    assert result.duration_s < 1.0
    if ending == "HANGUP":
        assert result.hangup_received and result.closed_by == "server" and codes == [1000]
    else:
        assert result.closed_by == "caller" and codes == [1009]
        assert "1009" in result.errors[0]


@pytest.mark.parametrize("answers", [True, False])
async def test_no_auto_answer_waits_for_answer(answers: bool) -> None:
    audio_after: list[int] = []

    async def bot(ws: ServerConnection) -> None:
        inbox = Inbox(ws)
        await inbox.wait_for("MEDIA_START")
        await asyncio.sleep(0.2)
        audio_after.append(len(inbox.audio))  # nothing before the answer
        if answers:
            await ws.send('{"command":"ANSWER"}')
        await inbox.closed()
        audio_after.append(len(inbox.audio))

    async with bot_server(bot) as url:
        result = await AsteriskWebSocketCall(
            url,
            steps=[Silence(0.2)],
            auto_answer=False,
            answer_timeout_s=0.5,
            wait_for_greeting_s=0,
        ).run()
    assert result.answered is answers and audio_after[0] == 0
    if answers:
        assert audio_after[1] >= 9
    else:
        assert result.errors == ["no ANSWER from the bot (dialled with n)"]
