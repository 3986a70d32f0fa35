"""Pipecat's own OpenAIRealtimeLLMService (not the bot's subclass), between Pipecat's
context aggregators, plays the scripted session against the emulator without a warning or
an error in Pipecat's log. Runs in .venv: Pipecat is the bot's own dependency."""

from __future__ import annotations

import asyncio
from typing import Any

from loguru import logger
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.frames.frames import EndFrame, InputAudioRawFrame
from pipecat.pipeline.pipeline import Pipeline
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.services.openai.realtime import events
from pipecat.services.openai.realtime.llm import OpenAIRealtimeLLMService
from pipecat.workers.runner import WorkerRunner

from tests.peers.scenario import (
    AUDIO_REPLY,
    CALLER_WORDS,
    TOOL_ARGUMENTS,
    TOOL_NAME,
    caller_turn,
    script,
)

FRAME = 480  # 20 ms at 24 kHz


async def _until(condition: Any, within: float = 15.0) -> None:
    for _ in range(int(within / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise TimeoutError(f"not within {within} s")


async def _speak(worker: PipelineWorker, pcm: Any) -> None:
    for i in range(0, len(pcm) - FRAME + 1, FRAME):
        audio = pcm[i : i + FRAME].astype("<i2").tobytes()
        await worker.queue_frame(InputAudioRawFrame(audio=audio, sample_rate=24000, num_channels=1))
        await asyncio.sleep(0.002)


def _transcripts(session: Any) -> list[str]:
    return [
        r["output"][0]["content"][0].get("transcript")
        for r in session.responses
        if r["output"] and r["output"][0]["type"] == "message"
    ]


async def test_pipecats_realtime_service_plays_the_scripted_session(make_emu):
    emu = await make_emu(**script(stream_speed=4.0))
    warned: list[str] = []
    sink = logger.add(
        lambda m: warned.append(m.record["name"] + ": " + m.record["message"]),
        level="WARNING",
        filter=lambda r: r["name"].startswith("pipecat.services"),
    )
    calls: list[dict] = []

    async def get_order_status(params: Any) -> None:
        calls.append(dict(params.arguments))
        await params.result_callback({"eta": "Friday"})

    properties = events.SessionProperties(
        audio=events.AudioConfiguration(
            input=events.AudioInput(transcription=events.InputAudioTranscription())
        )
    )
    llm = OpenAIRealtimeLLMService(
        api_key="sk-test",
        base_url=emu.url,
        settings=OpenAIRealtimeLLMService.Settings(
            model="gpt-realtime", session_properties=properties
        ),
    )
    llm.register_function(TOOL_NAME, get_order_status)
    tools = ToolsSchema(
        standard_tools=[
            FunctionSchema(
                name=TOOL_NAME,
                description="Look up an order by its id",
                properties={"order_id": {"type": "string"}},
                required=["order_id"],
            )
        ]
    )
    aggregators = LLMContextAggregatorPair(LLMContext(tools=tools))
    pipeline = Pipeline([aggregators.user(), llm, aggregators.assistant()])
    worker = PipelineWorker(
        pipeline,
        params=PipelineParams(audio_in_sample_rate=24000, audio_out_sample_rate=24000),
        enable_rtvi=False,
        idle_timeout_secs=None,
    )
    runner = WorkerRunner(handle_sigint=False)
    await runner.add_workers(worker)
    running = asyncio.create_task(runner.run())
    try:
        await _until(lambda: emu.sessions and emu.sessions[0].client_events)
        session = emu.sessions[0]
        # an audio turn, transcribed and answered
        pcm = caller_turn()
        await _speak(worker, pcm)
        await _until(lambda: AUDIO_REPLY in _transcripts(session))
        assert session.items[0]["content"][0]["transcript"] == CALLER_WORDS

        # the second turn: Pipecat runs the scripted tool and asks for the reply after it.
        # (Pipecat sends appended messages as system items, so its turns are spoken ones.)
        await _speak(worker, pcm)
        # the caller barges in on the reply after the tool: the server cancels it and
        # Pipecat carries on. (Before its first response of its own, Pipecat restates the
        # conversation as one user message, which the emulator counts as a typed turn, so
        # that reply is a default one, not the script's.)
        await _until(lambda: calls == [TOOL_ARGUMENTS])
        await _until(lambda: len(session.responses) >= 2 and session.active is not None)
        await _speak(worker, pcm)
        await _until(lambda: any(c["reason"] == "turn_detected" for c in session.cancellations))
        await _until(lambda: session.active is None and len(session.responses) >= 4)
        await worker.queue_frame(EndFrame())
        await asyncio.wait_for(running, 15)
    finally:
        logger.remove(sink)
        if not running.done():
            running.cancel()
    errors = [e for e in session.server_events if e["type"] == "error"]
    assert errors == []
    assert warned == []
