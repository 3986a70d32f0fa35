"""`openai-agents`' realtime session (RealtimeRunner → RealtimeSession) plays the scripted
session against the emulator; its ``interrupt()`` mid-reply truncates the item that is still
streaming without an error."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosedError

from tests.peers.scenario import (
    AUDIO_REPLY,
    CALLER_WORDS,
    TOOL_REPLY,
    caller_turn,
    client_warnings,
    messages,
    require,
    script,
)

require("agents", "agents")
from agents import function_tool  # noqa: E402
from agents.realtime import RealtimeAgent, RealtimeRunner, RealtimeSession  # noqa: E402

tool_calls: list[str] = []


@function_tool
def get_order_status(order_id: str) -> str:
    """Look up an order by its id."""
    tool_calls.append(order_id)
    return "arrives Friday"


class Events:
    """The session's events, with a forward-scanning wait; raw server events by their type."""

    def __init__(self, session: RealtimeSession) -> None:
        self.stream = aiter(session)
        self.seen: list[Any] = []

    async def next_matching(self, want: Any, within: float = 20.0) -> Any:
        async def scan() -> Any:
            while True:
                event = await anext(self.stream)
                self.seen.append(event)
                if want(event):
                    return event

        return await asyncio.wait_for(scan(), within)

    async def server(self, etype: str) -> dict:
        event = await self.next_matching(lambda e: server_type(e) == etype)
        return event.data.data

    def errors(self) -> list[Any]:
        return [e for e in self.seen if e.type == "error" or server_type(e) == "error"]


def server_type(event: Any) -> str | None:
    if event.type == "raw_model_event" and event.data.type == "raw_server_event":
        return event.data.data.get("type")
    return None


async def _session(emu: Any) -> RealtimeSession:
    agent = RealtimeAgent(name="support", instructions="Help callers.", tools=[get_order_status])
    settings = {"model_name": "gpt-realtime", "input_audio_transcription": {"model": "whisper-1"}}
    runner = RealtimeRunner(agent, config={"model_settings": settings})
    return await runner.run(
        model_config={"url": f"{emu.url}?model=gpt-realtime-mini", "api_key": "sk-test"}
    )


async def test_an_agents_realtime_session_plays_the_scripted_session(make_emu):
    emu = await make_emu(**script(stream_speed=1.0))
    with client_warnings("openai.agents", "openai") as warned:
        async with await _session(emu) as session:
            events = Events(session)
            # an audio turn, transcribed and answered
            pcm = caller_turn().astype("<i2").tobytes()
            for i in range(0, len(pcm), 9600):
                await session.send_audio(pcm[i : i + 9600])
            heard = await events.server("conversation.item.input_audio_transcription.completed")
            assert heard["transcript"] == CALLER_WORDS
            done = (await events.server("response.done"))["response"]
            assert done["output"][0]["content"][0]["transcript"] == AUDIO_REPLY

            # a typed turn: the SDK runs the scripted tool and asks for the reply
            await session.send_message("Where is my parcel A17?")
            await events.next_matching(lambda e: e.type == "tool_end")
            assert tool_calls == ["A17"]
            reply = (await events.server("response.done"))["response"]
            assert reply["output"][0]["content"][0]["transcript"] == TOOL_REPLY

            # interrupt() mid-reply: the item is still streaming when it is truncated
            await session.send_message("And what else?")
            added = await events.server("response.output_item.added")
            await events.next_matching(lambda e: e.type == "audio")
            await session.interrupt()
            truncated = await events.server("conversation.item.truncated")
            assert truncated["item_id"] == added["item"]["id"]
            ended = (await events.server("response.done"))["response"]
            assert ended["output"][0]["id"] == added["item"]["id"]
            assert events.errors() == []
            assert messages(warned) == []

            # the connection drops; the client opens a new session and goes on
            emu.drop(0)
            with pytest.raises(ConnectionClosedError):
                await events.next_matching(lambda e: False)
        warned.clear()
        async with await _session(emu) as session:
            events = Events(session)
            await session.send_message("Hello again")
            done = (await events.server("response.done"))["response"]
            assert done["status"] == "completed"
            assert events.errors() == []
    assert messages(warned) == []
    assert len(emu.sessions) == 2
