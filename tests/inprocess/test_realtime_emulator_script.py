"""The emulator driven by a conversation script file (``--script``), users' caller clips
(``--clips``), forced tool choice and model names."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sim.realtime import RealtimeEmulator
from sim.realtime.__main__ import config_from_args, parse_args
from sim.realtime.client import RealtimeClient, clip_samples, silence
from sim.realtime.clips import AUDIO_DIR, manifest
from sim.realtime.config import EmulatorConfig, script_schema
from tests.helpers.realtime_conformance import assert_conforming

REPO = Path(__file__).resolve().parents[2]
SCRIPT = """
turns:
  - user_turn: 1
    function_calls:
      - name: get_order_status
        arguments: {order_id: "A17"}
    say: {text: "Your parcel A17 arrives on Friday."}
  - user_turn: 2
    error: {type: server_error, code: server_busy, message: "Try again."}
"""
TOOL = {
    "type": "function",
    "name": "get_order_status",
    "description": "Look up an order",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
}


async def _scripted_emulator(tmp_path: Path, *flags: str) -> RealtimeEmulator:
    script = tmp_path / "script.yaml"
    script.write_text(SCRIPT)
    config = config_from_args(parse_args(["--port", "0", "--script", str(script), *flags]))
    emu = RealtimeEmulator(config.model_copy(update={"stream_speed": 40.0}))
    return await emu.start()


async def _connect(emu: RealtimeEmulator, **session: object) -> RealtimeClient:
    client = await RealtimeClient.connect(emu.url)
    await client.wait_for("session.created")
    await client.send("session.update", session={"type": "realtime", "tools": [TOOL], **session})
    await client.wait_for("session.updated")
    return client


async def _say_text(client: RealtimeClient, text: str) -> None:
    content = [{"type": "input_text", "text": text}]
    await client.send(
        "conversation.item.create", item={"type": "message", "role": "user", "content": content}
    )
    await client.send("response.create")


async def _answer_call(client: RealtimeClient, call: dict) -> dict:
    output = {
        "type": "function_call_output",
        "call_id": call["call_id"],
        "output": '{"eta": "Fri"}',
    }
    await client.send("conversation.item.create", item=output)
    await client.send("response.create")
    return (await client.wait_for("response.done"))["response"]


async def test_a_text_only_client_plays_the_script(tmp_path):
    emu = await _scripted_emulator(tmp_path)
    try:
        client = await _connect(emu, output_modalities=["text"])
        await _say_text(client, "Where is my parcel A17?")
        done = (await client.wait_for("response.done"))["response"]
        [call] = done["output"]
        assert (call["type"], call["name"]) == ("function_call", "get_order_status")
        assert json.loads(call["arguments"]) == {"order_id": "A17"}
        reply = await _answer_call(client, call)
        assert reply["output"][0]["content"][0]["text"] == "Your parcel A17 arrives on Friday."
        # turn 2: the injected error fails that response; the next one is a normal reply
        await _say_text(client, "Thanks!")
        err = (await client.wait_for("error"))["error"]
        assert (err["type"], err["code"], err["message"]) == (
            "server_error",
            "server_busy",
            "Try again.",
        )
        failed = (await client.wait_for("response.done"))["response"]
        assert failed["status"] == "failed" and failed["output"] == []
        assert failed["status_details"]["error"] == {"type": "server_error", "code": "server_busy"}
        await client.send("response.create")
        assert (await client.wait_for("response.done"))["response"]["status"] == "completed"
        assert_conforming(client.received)
    finally:
        await emu.stop()


async def test_an_audio_client_plays_the_same_script(tmp_path):
    emu = await _scripted_emulator(tmp_path)
    try:
        client = await _connect(emu)
        turn = np.concatenate(
            [silence(300), clip_samples("caller_order_status.wav"), silence(1200)]
        )
        await client.send_audio(turn)
        done = (await client.wait_for("response.done"))["response"]
        assert done["output"][0]["name"] == "get_order_status"
        reply = await _answer_call(client, done["output"][0])
        assert (
            reply["output"][0]["content"][0]["transcript"] == "Your parcel A17 arrives on Friday."
        )
        assert_conforming(client.received)
        assert not emu.sessions[0].conformance_errors
    finally:
        await emu.stop()


async def test_a_forced_tool_choice_returns_that_function(make_emu):
    emu = await make_emu()
    client = await _connect(emu, tool_choice={"type": "function", "name": "get_order_status"})
    await client.send("response.create")
    done = (await client.wait_for("response.done"))["response"]
    assert [(o["type"], o["name"]) for o in done["output"]] == [
        ("function_call", "get_order_status")
    ]
    # per response too, over a session that chose "none"
    await client.send("session.update", session={"type": "realtime", "tool_choice": "none"})
    await client.send(
        "response.create",
        response={"tool_choice": {"type": "function", "name": "get_order_status"}},
    )
    done = (await client.wait_for("response.done"))["response"]
    assert done["output"][0]["name"] == "get_order_status"
    await client.send("response.create", response={"tool_choice": "required"})
    required = (await client.wait_for("response.done"))["response"]
    assert required["output"][0]["type"] == "function_call"
    assert_conforming(client.received, pipecat=False)  # Pipecat cannot force a tool


async def test_a_user_clip_comes_back_as_its_own_transcript(tmp_path):
    clips = tmp_path / "callers"
    clips.mkdir()
    shutil.copy(AUDIO_DIR / "bargein_address.wav", clips / "change_address.wav")
    words = "No no, I need to change the delivery address."
    (clips / "change_address.txt").write_text(words + "\n")
    config = config_from_args(parse_args(["--port", "0", "--clips", str(clips)]))
    async with RealtimeEmulator(config) as emu:
        client = await RealtimeClient.connect(emu.url)
        await client.wait_for("session.created")
        transcription = {"transcription": {"model": "whisper-1"}, "turn_detection": None}
        await client.send(
            "session.update", session={"type": "realtime", "audio": {"input": transcription}}
        )
        await client.wait_for("session.updated")
        for name, expected in (("bargein_address.wav", words), ("caller_thanks.wav", None)):
            await client.send_audio(clip_samples(name))
            await client.send("input_audio_buffer.commit")
            done = await client.wait_for("conversation.item.input_audio_transcription.completed")
            assert done["transcript"] == (expected or manifest()["caller"][name])


def test_a_clip_without_a_transcript_is_refused(tmp_path):
    shutil.copy(AUDIO_DIR / "bargein_address.wav", tmp_path / "x.wav")
    from sim.realtime.clips import caller_clips

    with pytest.raises(ValueError, match=r"x\.wav: no transcript beside it"):
        caller_clips((str(tmp_path),))


@pytest.mark.parametrize(
    ("model", "accepted"),
    [
        ("gpt-realtime-2025-08-28", True),
        ("gpt-realtime-mini", True),
        ("gpt-4o-mini-realtime-preview", True),
        ("gpt-4o-realtime-preview-2024-12-17", True),
        ("foo-model", False),
        ("gpt-4o", False),
    ],
)
async def test_model_names(make_emu, model, accepted):
    emu = await make_emu()
    client = await RealtimeClient.connect(emu.url, model=model)
    if accepted:
        created = await client.wait_for("session.created")
        assert created["session"]["model"] == model
    else:
        err = (await client.wait_for("error"))["error"]
        assert err["code"] == "model_not_found" and model in err["message"]


async def test_models_flag_restricts_the_names():
    config = config_from_args(parse_args(["--port", "0", "--models", "gpt-realtime-mini"]))
    async with RealtimeEmulator(config) as emu:
        ok = await RealtimeClient.connect(emu.url, model="gpt-realtime-mini")
        await ok.wait_for("session.created")
        refused = await RealtimeClient.connect(emu.url, model="gpt-realtime")
        assert (await refused.wait_for("error"))["error"]["code"] == "model_not_found"


def test_flags_override_the_script(tmp_path):
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"stream_speed": 2, "faults": {"first_audio_delay_s": 1}}))
    config = config_from_args(
        parse_args(["--port", "0", "--script", str(script), "--stream-speed", "8", "--bad-key"])
    )
    assert config.stream_speed == 8
    assert (config.faults.first_audio_delay_s, config.faults.bad_key) == (1, True)


def test_the_documented_schema_and_example_are_current():
    committed = json.loads((REPO / "docs" / "realtime-script.schema.json").read_text())
    assert committed == script_schema(), (
        "run: python -m sim.realtime --schema > docs/realtime-script.schema.json"
    )
    example = EmulatorConfig.from_file(REPO / "docs" / "examples" / "realtime-script.yaml")
    assert [t.user_turn for t in example.turns] == [0, 1, 2, 3]
