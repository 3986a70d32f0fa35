"""Protocol details other clients rely on: truncating an item while it streams, out-of-band
responses, transcription sessions, the idle timeout, rate limits and logprobs."""

from __future__ import annotations

import numpy as np

from sim.realtime.client import RealtimeClient, clip_samples, silence
from sim.realtime.clips import manifest
from tests.helpers.realtime_conformance import assert_conforming

CALLER = "caller_thanks.wav"
TRANSCRIBED = {"transcription": {"model": "gpt-4o-transcribe"}}


async def _client(emu, **session: object) -> RealtimeClient:
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    if session:
        await client.send("session.update", session={"type": "realtime", **session})
        await client.wait_for("session.updated")
    return client


async def test_truncating_an_item_while_it_streams(make_emu):
    emu = await make_emu(stream_speed=1.0)  # seconds of wall clock per reply
    client = await _client(emu)
    await client.send("response.create")
    added = await client.wait_for("response.output_item.added")
    for _ in range(3):
        await client.wait_for("response.output_audio.delta")
    item_id = added["item"]["id"]
    # what openai-agents sends on interrupt: truncate to what was played, then cancel
    await client.send(
        "conversation.item.truncate", item_id=item_id, content_index=0, audio_end_ms=150
    )
    truncated = await client.wait_for("conversation.item.truncated")
    assert (truncated["item_id"], truncated["audio_end_ms"]) == (item_id, 150)
    await client.send("response.cancel")
    done = (await client.wait_for("response.done"))["response"]
    assert done["status"] == "cancelled"
    assert not client.of_type("error")
    stored = emu.sessions[0].find_item(item_id)
    assert emu.sessions[0].item_meta[item_id]["audio_ms"] == 150
    heard = stored["content"][0]["transcript"]
    assert len(heard) < len(manifest()["bot"]["bot_greeting.wav"])
    assert_conforming(client.received)


async def test_out_of_band_responses_stay_out_of_the_conversation(make_emu):
    emu = await make_emu()
    client = await _client(emu)
    await client.send("response.create")
    await client.wait_for("response.created")
    # beside the in-band response, not refused as "already has an active response"
    await client.send(
        "response.create",
        response={
            "conversation": "none",
            "output_modalities": ["text"],
            "metadata": {"purpose": "classify"},
            "instructions": 'Say exactly: "billing"',
        },
    )
    oob = None
    while oob is None:
        done = (await client.wait_for("response.done"))["response"]
        oob = done if done["metadata"] == {"purpose": "classify"} else None
    assert oob["conversation_id"] is None
    assert oob["output"][0]["content"][0] == {"type": "output_text", "text": "billing"}
    await client.drain(0.3)
    session = emu.sessions[0]
    assert oob["output"][0]["id"] not in [i["id"] for i in session.items]
    added = {e["item"]["id"] for e in client.of_type("conversation.item.added")}
    assert oob["output"][0]["id"] not in added
    assert [i["role"] for i in session.items] == ["assistant"]
    assert not client.of_type("error")
    assert_conforming(client.received)


async def test_a_transcription_session(make_emu):
    emu = await make_emu()
    client = await RealtimeClient.connect(emu.url, intent="transcription")
    created = (await client.wait_for("session.created"))["session"]
    assert created["type"] == "transcription"
    await client.send(
        "session.update",
        session={
            "type": "transcription",
            "audio": {"input": {**TRANSCRIBED, "turn_detection": {"type": "server_vad"}}},
            "include": ["item.input_audio_transcription.logprobs"],
        },
    )
    updated = (await client.wait_for("session.updated"))["session"]
    assert updated["audio"]["input"]["transcription"]["model"] == "gpt-4o-transcribe"
    await client.send_audio(np.concatenate([silence(300), clip_samples(CALLER), silence(1000)]))
    done = await client.wait_for("conversation.item.input_audio_transcription.completed")
    assert done["transcript"] == manifest()["caller"][CALLER]
    assert "".join(p["token"] for p in done["logprobs"]).strip() == done["transcript"]
    await client.drain(0.3)
    assert not client.of_type("response.created")
    await client.send("response.create")
    assert (await client.wait_for("error"))["error"]["type"] == "invalid_request_error"
    assert_conforming(client.received, pipecat=False)  # Pipecat has no transcription sessions


async def test_idle_timeout_commits_the_silence_and_answers(make_emu):
    emu = await make_emu()
    vad = {"type": "server_vad", "idle_timeout_ms": 1000}
    client = await _client(emu, audio={"input": {**TRANSCRIBED, "turn_detection": vad}})
    await client.send_audio(silence(1500))
    timeout = await client.wait_for("input_audio_buffer.timeout_triggered")
    assert timeout["audio_start_ms"] == 0 and 1000 <= timeout["audio_end_ms"] < 1100
    committed = await client.wait_for("input_audio_buffer.committed")
    assert committed["item_id"] == timeout["item_id"]
    transcript = await client.wait_for("conversation.item.input_audio_transcription.completed")
    assert transcript["transcript"] == ""
    done = (await client.wait_for("response.done"))["response"]
    assert done["status"] == "completed"
    # one timeout per silence: counting starts again after the reply's audio
    await client.send_audio(silence(1500))
    await client.drain(0.3)
    assert len(client.of_type("input_audio_buffer.timeout_triggered")) == 1
    assert_conforming(client.received)


async def test_rate_limits_follow_each_response(make_emu):
    emu = await make_emu()
    client = await _client(emu)
    for _ in range(2):
        await client.send("response.create")
        await client.wait_for("response.done")
    updates = client.of_type("rate_limits.updated")
    assert len(updates) == 2
    requests = [next(r for r in u["rate_limits"] if r["name"] == "requests") for u in updates]
    assert requests[0]["remaining"] > requests[1]["remaining"]
    kinds = [e["type"] for e in client.received]
    assert kinds.index("rate_limits.updated") == kinds.index("response.created") + 1
    quiet = await make_emu(rate_limits=False)
    client = await _client(quiet)
    await client.send("response.create")
    await client.wait_for("response.done")
    assert not client.of_type("rate_limits.updated")


async def test_logprobs_only_when_asked(make_emu):
    emu = await make_emu()
    for include in (None, ["item.input_audio_transcription.logprobs"]):
        audio = {"input": {**TRANSCRIBED, "turn_detection": None}}
        client = await _client(emu, audio=audio, include=include)
        await client.send_audio(clip_samples(CALLER))
        await client.send("input_audio_buffer.commit")
        done = await client.wait_for("conversation.item.input_audio_transcription.completed")
        deltas = client.of_type("conversation.item.input_audio_transcription.delta")
        if include:
            assert all(d["logprobs"][0]["logprob"] < 0 for d in deltas)
            assert len(done["logprobs"]) == len(deltas)
        else:
            assert "logprobs" not in done and all("logprobs" not in d for d in deltas)
        assert_conforming(client.received)
