"""VAD, G.711, fault injection and pipecat-compatibility tests of the Realtime emulator."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import numpy as np
import pytest
from pipecat.adapters.llm.schemas.function_schema import FunctionSchema
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.adapters.llm.services.open_ai_realtime_adapter import OpenAIRealtimeLLMAdapter
from pipecat.services.openai.realtime import events as pc_events
from websockets.exceptions import ConnectionClosed, InvalidStatus

from sim.realtime import Faults, RealtimeEmulator
from sim.realtime.client import RealtimeClient, clip_samples, silence
from sim.realtime.clips import manifest
from tests.helpers.realtime_conformance import assert_conforming

CALLER = "caller_thanks.wav"
PCMU = {"type": "audio/pcmu"}


async def _ready(emu: RealtimeEmulator, turn_detection: dict | None, **audio) -> RealtimeClient:
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    session = {"type": "realtime", "audio": {"input": {"turn_detection": turn_detection, **audio}}}
    await client.send("session.update", session=session)
    await client.wait_for("session.updated")
    return client


def _vad(**fields) -> dict:
    return {"type": "server_vad", "create_response": False, **fields}


async def _first_stop(emu, td: dict, audio: np.ndarray) -> dict | None:
    client = await _ready(emu, td)
    await client.send_audio(audio)
    try:
        return await client.wait_for("input_audio_buffer.speech_stopped", within=2.0)
    except TimeoutError:
        return None
    finally:
        await client.close()


async def test_vad_silence_duration(make_emu):
    emu = await make_emu()
    audio = np.concatenate([silence(300), clip_samples(CALLER), silence(1500)])
    short = await _first_stop(emu, _vad(silence_duration_ms=200), audio)
    long = await _first_stop(emu, _vad(silence_duration_ms=800), audio)
    assert short is not None and long is not None
    assert long["audio_end_ms"] >= short["audio_end_ms"] + 500


async def test_vad_threshold(make_emu):
    emu = await make_emu()
    quiet = np.concatenate([silence(300), clip_samples(CALLER, gain=0.03), silence(1000)])
    assert await _first_stop(emu, _vad(threshold=0.9), quiet) is None
    assert await _first_stop(emu, _vad(threshold=0.1), quiet) is not None


async def test_semantic_vad_eagerness(make_emu):
    emu = await make_emu()
    audio = np.concatenate([silence(300), clip_samples(CALLER), silence(1500)])
    high = await _first_stop(
        emu, {"type": "semantic_vad", "eagerness": "high", "create_response": False}, audio
    )
    low = await _first_stop(
        emu, {"type": "semantic_vad", "eagerness": "low", "create_response": False}, audio
    )
    assert high is not None and low is not None
    assert low["audio_end_ms"] > high["audio_end_ms"]


async def test_manual_turns(make_emu):
    emu = await make_emu()
    client = await _ready(emu, None, transcription={"model": "gpt-4o-transcribe"})
    await client.send_audio(clip_samples(CALLER))
    await client.send("input_audio_buffer.commit")
    committed = await client.wait_for("input_audio_buffer.committed")
    done = await client.wait_for("conversation.item.input_audio_transcription.completed")
    assert done["item_id"] == committed["item_id"]
    assert done["transcript"] == manifest()["caller"][CALLER]
    await asyncio.sleep(0.2)
    assert not client.of_type("input_audio_buffer.speech_started")
    assert not client.of_type("response.created")  # manual mode: client asks for responses
    await client.send("response.create")
    reply = await client.wait_for("response.done")
    assert reply["response"]["status"] == "completed"
    assert_conforming(client.received)


async def test_unknown_speech_transcript(make_emu):
    emu = await make_emu()
    client = await _ready(emu, None, transcription={"model": "whisper-1"})
    rng = np.random.default_rng(1)
    noise = (rng.standard_normal(24000 * 3 // 2) * 4000).astype(np.int16)
    await client.send_audio(noise)
    await client.send("input_audio_buffer.commit")
    done = await client.wait_for("conversation.item.input_audio_transcription.completed")
    assert done["transcript"] == "(unrecognised speech, 1.5 s)"


async def test_pcmu_in_and_out(make_emu):
    emu = await make_emu()
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    await client.send(
        "session.update",
        session={
            "type": "realtime",
            "audio": {
                "input": {"format": PCMU, "transcription": {"model": "whisper-1"}},
                "output": {"format": PCMU},
            },
        },
    )
    updated = await client.wait_for("session.updated")
    assert updated["session"]["audio"]["output"]["format"] == PCMU
    audio = np.concatenate([silence(300, PCMU), clip_samples(CALLER, PCMU), silence(1000, PCMU)])
    await client.send_audio(audio, PCMU)
    done = await client.wait_for("conversation.item.input_audio_transcription.completed")
    assert done["transcript"] == manifest()["caller"][CALLER]
    reply = await client.wait_for("response.done")
    item_id = reply["response"]["output"][0]["id"]
    deltas = [e for e in client.of_type("response.output_audio.delta") if e["item_id"] == item_id]
    total = sum(len(base64.b64decode(d["delta"])) for d in deltas)
    clip_ms = len(clip_samples("bot_reply_1.wav")) // 24
    assert abs(total // 8 - clip_ms) < 100  # 8 bytes per ms of G.711 at 8 kHz
    assert reply["response"]["audio"]["output"]["format"] == PCMU
    assert_conforming(client.received)


async def _expect_rejection(url: str, code: str, close_code: int, **kwargs) -> dict:
    client = await RealtimeClient.connect(url, **kwargs)
    err = await client.wait_for("error")
    assert err["error"]["code"] == code
    with pytest.raises(ConnectionClosed):
        await client.wait_for("session.created", within=2.0)
    assert client.ws.close_code == close_code
    assert not client.of_type("session.created")
    return err


async def test_bad_key(make_emu):
    emu = await make_emu(api_key="sk-good-key")
    await _expect_rejection(emu.url, "invalid_api_key", 3000, api_key="sk-wrong-key")
    ok = await RealtimeClient.connect(emu.url, api_key="sk-good-key")
    await ok.wait_for("session.created")
    emu2 = await make_emu(faults=Faults(bad_key=True))
    await _expect_rejection(emu2.url, "invalid_api_key", 3000)
    assert emu2.sessions[0].close_code == 3000


async def test_model_not_found(make_emu):
    emu = await make_emu()
    err = await _expect_rejection(emu.url, "model_not_found", 3000, model="gpt-nonexistent")
    assert "gpt-nonexistent" in err["error"]["message"]
    emu2 = await make_emu(faults=Faults(model_not_found=True))
    await _expect_rejection(emu2.url, "model_not_found", 3000)


async def test_rate_limited_at_session_start_only_on_its_connection(make_emu):
    emu = await make_emu(faults_for_connection={0: Faults(rate_limited=True, retry_after_s=1.5)})
    err = await _expect_rejection(emu.url, "rate_limit_exceeded", 1013)
    assert "Please try again in 1.5s." in err["error"]["message"]
    assert err["error"]["type"] == "requests"  # the limit's kind, as in the API's 429 bodies
    assert_conforming([err])  # the openai package's RealtimeErrorEvent, Pipecat's parser
    healthy = await RealtimeClient.connect(emu.url)
    await healthy.wait_for("session.created")
    assert emu.sessions[0].close_code == 1013 and not emu.sessions[1].closed


async def test_http_429_on_connect_with_the_apis_body_and_retry_headers(make_emu):
    emu = await make_emu(faults_for_connection={0: Faults(http_status=429, retry_after_s=0.25)})
    with pytest.raises(InvalidStatus) as refused:
        await RealtimeClient.connect(emu.url)
    response = refused.value.response
    assert response.status_code == 429
    assert response.headers["retry-after-ms"] == "250" and response.headers["Retry-After"] == "1"
    assert json.loads(response.body)["error"]["code"] == "rate_limit_exceeded"
    assert emu.refused_upgrades == [0] and emu.sessions == []
    # The next connection (index 1) has no fault: a session as usual.
    ok = await RealtimeClient.connect(emu.url)
    created = await ok.wait_for("session.created")
    assert created["session"]["id"] and emu.sessions[0].index == 1


async def test_rate_limited_responses_fail_as_the_api_reports_them_then_the_limit_lifts(make_emu):
    # Connection 0: the first response answered, the next two refused; connection 1 healthy.
    limited = Faults(rate_limited_responses=2, rate_limited_responses_after=1, retry_after_s=0.5)
    emu = await make_emu(faults_for_connection={0: limited})
    client = await RealtimeClient.connect(emu.url)
    other = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    statuses = []
    for _ in range(4):
        await client.send("response.create")
        await client.wait_for("response.created")
        statuses.append((await client.wait_for("response.done"))["response"])
    assert [r["status"] for r in statuses] == ["completed", "failed", "failed", "completed"]
    refused = statuses[1]
    error = refused["status_details"]["error"]
    assert refused["status_details"]["type"] == "failed" and refused["output"] == []
    assert error["code"] == "rate_limit_exceeded" and error["type"] == "requests"
    assert "Please try again in 0.5s." in error["message"]
    assert refused["usage"]["total_tokens"] == 0
    assert not client.of_type("error"), "the refusal is in response.done, not an error event"
    assert_conforming(client.received)  # the openai package's types, Pipecat's parser
    # The refusals planned nothing: the first answered reply after them is the next in turn.
    assert [len(r["output"]) for r in statuses] == [1, 0, 0, 1]
    await other.wait_for("session.created")
    await other.send("response.create")
    assert (await other.wait_for("response.done"))["response"]["status"] == "completed"


async def test_drop_does_not_affect_other_connections(make_emu):
    emu = await make_emu(faults_for_connection={0: Faults(drop_after_s=0.3)})
    dropped = await RealtimeClient.connect(emu.url)
    other = await RealtimeClient.connect(emu.url)
    await dropped.wait_for("session.created")
    await other.wait_for("session.created")
    with pytest.raises(ConnectionClosed):
        await dropped.wait_for("never", within=3.0)
    assert dropped.ws.close_code == 1006  # no close frame
    await other.send("response.create")
    assert (await other.wait_for("response.done"))["response"]["status"] == "completed"
    assert emu.sessions[0].closed and not emu.sessions[1].closed


async def test_session_expired(make_emu):
    emu = await make_emu(faults=Faults(session_expired_after_s=0.3))
    client = await RealtimeClient.connect(emu.url)
    err = (await client.wait_for("error"))["error"]
    assert err["code"] == "session_expired"
    assert err["message"] == "Your session hit the maximum duration of 60 minutes."
    with pytest.raises(ConnectionClosed):
        await client.wait_for("never", within=2.0)
    assert client.ws.close_code == 1001
    assert_conforming(client.received)


async def _first_audio_latency(emu: RealtimeEmulator) -> float:
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    await client.send("response.create")
    await client.wait_for("response.created")
    t0 = time.monotonic()
    await client.wait_for("response.output_audio.delta")
    await client.close()
    return time.monotonic() - t0


async def test_first_audio_delay(make_emu):
    slow = await _first_audio_latency(await make_emu(faults=Faults(first_audio_delay_s=0.6)))
    fast = await _first_audio_latency(await make_emu())
    assert slow >= 0.55 and fast < 0.3


async def test_no_session_updated(make_emu):
    emu = await make_emu(faults=Faults(no_session_updated=True))
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    await client.send("session.update", session={"type": "realtime", "instructions": "x"})
    with pytest.raises(TimeoutError):
        await client.wait_for("session.updated", within=1.0)
    assert emu.sessions[0].client_events[-1]["type"] == "session.update"


async def test_wrong_path_rejected(make_emu):
    emu = await make_emu()
    with pytest.raises(Exception, match="404"):
        await RealtimeClient.connect(emu.url.replace("/v1/realtime", "/v1/other"))


async def test_pipecat_client_events_accepted(make_emu):
    """What pipecat's OpenAIRealtimeLLMService sends is accepted without error."""
    emu = await make_emu()
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    tools = ToolsSchema(
        standard_tools=[
            FunctionSchema(
                name="get_order_status",
                description="Look up an order",
                properties={"order_id": {"type": "string"}},
                required=["order_id"],
            )
        ]
    )
    props = pc_events.SessionProperties(
        instructions="You are a phone agent.",
        output_modalities=["audio"],
        audio=pc_events.AudioConfiguration(
            input=pc_events.AudioInput(
                format=pc_events.PCMUAudioFormat(),
                transcription=pc_events.InputAudioTranscription(),
                turn_detection=pc_events.TurnDetection(silence_duration_ms=600),
                noise_reduction=pc_events.InputAudioNoiseReduction(type="near_field"),
            ),
            output=pc_events.AudioOutput(format=pc_events.PCMUAudioFormat(), voice="cedar"),
        ),
        tools=OpenAIRealtimeLLMAdapter().to_provider_tools_format(tools),
    )
    outgoing = [
        pc_events.SessionUpdateEvent(session=props),
        pc_events.ConversationItemCreateEvent(
            item=pc_events.ConversationItem(
                type="message",
                role="user",
                content=[pc_events.ItemContent(type="input_text", text="Hello")],
            )
        ),
        pc_events.ResponseCreateEvent(
            response=pc_events.ResponseProperties(output_modalities=["audio"])
        ),
    ]
    for event in outgoing:  # exactly how pipecat's send_client_event serialises them
        await client.ws.send(json.dumps(event.model_dump(exclude_none=True)))
    await client.wait_for("response.done")
    assert not client.of_type("error"), client.of_type("error")
    session = emu.sessions[0]
    assert session.config["tools"][0]["name"] == "get_order_status"
    assert session.config["audio"]["output"]["voice"] == "cedar"
    assert session.config["audio"]["input"]["turn_detection"]["silence_duration_ms"] == 600
    assert_conforming(client.received)
