"""LiveKit's `livekit-plugins-openai` RealtimeModel/RealtimeSession (no room: the session
alone, as LiveKit's AgentSession drives it) plays the scripted session against the
emulator, reconnects after a drop, and logs no warning or error."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.peers.scenario import (
    AUDIO_REPLY,
    CALLER_WORDS,
    TOOL_ARGUMENTS,
    TOOL_NAME,
    TOOL_REPLY,
    caller_turn,
    client_warnings,
    messages,
    require,
    script,
)

require("livekit.plugins.openai", "livekit")
import aiohttp  # noqa: E402
from livekit import rtc  # noqa: E402
from livekit.agents import llm  # noqa: E402
from livekit.plugins.openai.realtime import RealtimeModel  # noqa: E402
from openai.types.realtime import AudioTranscription  # noqa: E402

FRAME = 480  # 20 ms at 24 kHz


@llm.function_tool
async def get_order_status(order_id: str) -> str:
    """Look up an order by its id."""
    return "arrives Friday"


class ServerEvents:
    """The raw server events the plugin reports, with a forward-scanning wait."""

    def __init__(self, session: Any) -> None:
        self.seen: list[dict] = []
        self._cursor = 0
        session.on("openai_server_event_received", self.seen.append)

    async def wait_for(self, etype: str, within: float = 15.0) -> dict:
        async def scan() -> dict:
            while True:
                while self._cursor < len(self.seen):
                    event = self.seen[self._cursor]
                    self._cursor += 1
                    if event["type"] == etype:
                        return event
                await asyncio.sleep(0.01)

        return await asyncio.wait_for(scan(), within)

    def of_type(self, etype: str) -> list[dict]:
        return [e for e in self.seen if e["type"] == etype]


async def _say_text(session: Any, text: str) -> None:
    chat_ctx = session.chat_ctx.copy()
    chat_ctx.add_message(role="user", content=text)
    await session.update_chat_ctx(chat_ctx)
    await session.generate_reply()


async def test_the_livekit_plugin_plays_the_scripted_session(make_emu):
    emu = await make_emu(**script(stream_speed=2.0))
    errors: list[Any] = []
    reconnected = asyncio.Event()
    with client_warnings("livekit") as warned:
        async with aiohttp.ClientSession() as http:
            model = RealtimeModel(
                model="gpt-realtime",
                base_url=f"http://127.0.0.1:{emu.port}/v1",
                api_key="sk-test",
                http_session=http,
                input_audio_transcription=AudioTranscription(model="whisper-1"),
            )
            session = model.session()
            session.on("error", errors.append)
            session.on("session_reconnected", lambda _: reconnected.set())
            events = ServerEvents(session)
            await session.update_tools([get_order_status])

            # an audio turn, transcribed and answered
            pcm = caller_turn()
            for i in range(0, len(pcm) - FRAME + 1, FRAME):
                data = pcm[i : i + FRAME].astype("<i2").tobytes()
                session.push_audio(rtc.AudioFrame(data, 24000, 1, FRAME))
            heard = await events.wait_for("conversation.item.input_audio_transcription.completed")
            assert heard["transcript"] == CALLER_WORDS
            done = (await events.wait_for("response.done"))["response"]
            assert done["output"][0]["content"][0]["transcript"] == AUDIO_REPLY

            # a typed turn answered with the scripted tool; its output goes back by chat ctx
            await _say_text(session, "Where is my parcel A17?")
            [call] = (await events.wait_for("response.done"))["response"]["output"]
            assert (call["name"], json.loads(call["arguments"])) == (TOOL_NAME, TOOL_ARGUMENTS)
            chat_ctx = session.chat_ctx.copy()
            chat_ctx.items.append(
                llm.FunctionCallOutput(
                    call_id=call["call_id"], name=TOOL_NAME, output='"Friday"', is_error=False
                )
            )
            await session.update_chat_ctx(chat_ctx)
            await session.generate_reply()
            reply = (await events.wait_for("response.done"))["response"]
            assert reply["output"][0]["content"][0]["transcript"] == TOOL_REPLY

            # interrupt mid-stream and truncate what was played, as AgentSession does
            await session.generate_reply()
            item_id = (await events.wait_for("response.output_item.added"))["item"]["id"]
            await events.wait_for("response.output_audio.delta")
            session.interrupt()
            session.truncate(message_id=item_id, modalities=["audio"], audio_end_ms=60)
            truncated = await events.wait_for("conversation.item.truncated")
            assert truncated["item_id"] == item_id
            # the cancel went first: its response.done came before the truncation
            [*_, cancelled] = events.of_type("response.done")
            assert cancelled["response"]["status"] == "cancelled"
            assert errors == [] and messages(warned) == []

            # the connection drops; the plugin reconnects (logging the drop, rightly) and
            # restates the conversation into a new session
            emu.drop(0)
            await asyncio.wait_for(reconnected.wait(), 15)
            drop_lines = ("Error in _recv_task", "connection failed, retrying")
            unexplained = [m for m in messages(warned) if not any(d in m for d in drop_lines)]
            assert unexplained == [] and warned, messages(warned)
            warned.clear()
            errors.clear()
            await _say_text(session, "Are you still there?")
            await events.wait_for("session.created")
            assert (await events.wait_for("response.done"))["response"]["status"] == "completed"
            await session.aclose()

    assert len(emu.sessions) == 2
    assert not events.of_type("error"), events.of_type("error")
    assert errors == []
    assert messages(warned) == []
