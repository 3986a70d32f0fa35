"""The `openai` SDK's own Realtime client (``client.realtime.connect``) plays the scripted
session against the emulator: no error event, no warning from the SDK."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest

from tests.peers.scenario import (
    AUDIO_REPLY,
    CALLER_WORDS,
    TOOL,
    TOOL_ARGUMENTS,
    TOOL_NAME,
    TOOL_REPLY,
    caller_turn,
    client_warnings,
    messages,
    require,
    script,
)

require("websockets", "openai")
from openai import AsyncOpenAI  # noqa: E402


class Events:
    """Every server event the SDK hands out, as dicts, with a forward-scanning wait. Read
    through the SDK's iterator: that is where it reconnects after a drop."""

    def __init__(self, connection: Any) -> None:
        self.stream = aiter(connection)
        self.seen: list[dict] = []

    async def wait_for(self, etype: str, **match: Any) -> dict:
        while True:
            event = (await anext(self.stream)).model_dump(exclude_none=True)
            self.seen.append(event)
            if event["type"] == etype and all(event.get(k) == v for k, v in match.items()):
                return event

    def of_type(self, etype: str) -> list[dict]:
        return [e for e in self.seen if e["type"] == etype]


EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "realtime-script.yaml"
SESSION = {
    "type": "realtime",
    "tools": [TOOL],
    "audio": {"input": {"transcription": {"model": "whisper-1"}}},
}


async def test_the_openai_sdk_plays_the_scripted_session(make_emu):
    emu = await make_emu(**script(stream_speed=2.0))
    client = AsyncOpenAI(api_key="sk-test", base_url=f"http://127.0.0.1:{emu.port}/v1")
    reconnects: list[Any] = []
    with client_warnings("openai", "websockets") as warned:
        async with client.realtime.connect(
            model="gpt-realtime-2025-08-28", on_reconnecting=reconnects.append, initial_delay=0.1
        ) as connection:
            events = Events(connection)
            await events.wait_for("session.created")
            await connection.session.update(session=SESSION)
            await events.wait_for("session.updated")

            # an audio turn, transcribed, answered with audio
            samples = caller_turn()
            for i in range(0, len(samples), 480):
                chunk = samples[i : i + 480].astype("<i2").tobytes()
                await connection.input_audio_buffer.append(audio=base64.b64encode(chunk).decode())
            heard = await events.wait_for("conversation.item.input_audio_transcription.completed")
            assert heard["transcript"] == CALLER_WORDS
            done = (await events.wait_for("response.done"))["response"]
            assert done["output"][0]["content"][0]["transcript"] == AUDIO_REPLY

            # a typed turn answered with the scripted tool round trip
            await connection.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "Where is A17?"}],
                }
            )
            await connection.response.create()
            [call] = (await events.wait_for("response.done"))["response"]["output"]
            assert (call["name"], json.loads(call["arguments"])) == (TOOL_NAME, TOOL_ARGUMENTS)
            await connection.conversation.item.create(
                item={"type": "function_call_output", "call_id": call["call_id"], "output": "{}"}
            )
            await connection.response.create()
            reply = (await events.wait_for("response.done"))["response"]
            assert reply["output"][0]["content"][0]["transcript"] == TOOL_REPLY

            # interrupt mid-stream: truncate what was played, cancel the rest
            await connection.response.create()
            item_id = (await events.wait_for("response.output_item.added"))["item"]["id"]
            await events.wait_for("response.output_audio.delta")
            await connection.conversation.item.truncate(
                item_id=item_id, content_index=0, audio_end_ms=50
            )
            await connection.response.cancel()
            await events.wait_for("conversation.item.truncated", item_id=item_id)
            cancelled = (await events.wait_for("response.done"))["response"]
            assert cancelled["status"] == "cancelled"

            # the connection drops; the SDK reconnects to a fresh session
            emu.drop(0)
            await events.wait_for("session.created")
            await connection.session.update(session=SESSION)
            await events.wait_for("session.updated")
            await connection.response.create()
            assert (await events.wait_for("response.done"))["response"]["status"] == "completed"

    assert len(reconnects) == 1 and len(emu.sessions) == 2
    assert not events.of_type("error"), events.of_type("error")
    assert messages(warned) == []


async def test_the_installed_emulator_runs_without_the_bot(tmp_path):
    """`python -m sim.realtime --script` from the installed package, outside the work tree,
    in an environment without Pipecat or any of the bot's dependencies."""
    try:
        version("realtime-voice-bot-sim")
    except PackageNotFoundError:
        pytest.skip("the sim package is not installed here (only in .venv-peers/*)")
    assert importlib.util.find_spec("pipecat") is None
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sim.realtime", "--port", "0", "--script", str(EXAMPLE),
        cwd=tmp_path, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        line = await asyncio.wait_for(process.stderr.readline(), 30)
        url = line.decode().rsplit("listening on ", 1)[1].strip()
        client = AsyncOpenAI(api_key="sk-test", websocket_base_url=url.removesuffix("/realtime"))
        async with client.realtime.connect(model="gpt-realtime-mini") as connection:
            created = await connection.recv()
            assert created.type == "session.created"
    finally:
        process.terminate()
        await process.wait()
