"""Profile processors end to end: the real runner.py, the Realtime emulator and the phone
caller over real sockets, with processors placed by name in the profile."""

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from sim.bot_process import run_bot
from sim.phone import Dtmf, Say, Silence
from sim.phone.audio import voiced_seconds
from sim.provider_api import FakeProviderApi
from sim.realtime.clips import GREETING, bot_clip
from tests.helpers.tools import place_call, twilio_env

pytestmark = pytest.mark.e2e

ORDER = "sim/audio/caller_order_status.wav"
REPROMPT = "Are you still there? Press a key or say something."
CLOSING = "I can't hear you, so I'm ending the call now. Goodbye!"

RECORD_STAMP_SLACK_S = 0.05


def write_profile(tmp_path: Path, processors: list[dict], **extra) -> str:
    profile = {
        "name": "processors_test",
        "instructions": "You are a receptionist for {company_name}.",
        "greeting": "Hello {caller_name}, thanks for calling {company_name}.",
        "processors": processors,
        **extra,
    }
    path = tmp_path / "processors_test.yaml"
    path.write_text(yaml.safe_dump(profile))
    return str(path)


def text_of(item: dict) -> str:
    return " ".join(c.get("text") or "" for c in item.get("content") or [])


def events_of(record: dict, source: str) -> list[str]:
    return [e["event"] for e in record["events"] if e["source"] == source]


async def test_dotted_path_processor_runs_where_the_profile_places_it(tmp_path, emulator):
    counter = "tests.helpers.sample_processors:FrameCounter"
    profile = write_profile(
        tmp_path,
        [
            {"name": counter, "position": "before_llm", "options": {"tag": "before"}},
            {"name": counter, "position": "after_llm", "options": {"tag": "after"}},
        ],
    )
    args = ("--transport", "twilio", "--realtime-url", emulator.url, "--profile", profile)
    async with run_bot(tmp_path, *args) as bot:
        result = await place_call(bot, Say(ORDER), Silence(3.0))
        [record] = await bot.wait_for_records(1)
        log = bot.log()
    assert result.turns[0].bot_audio_s > 1.0, "the call itself must work as usual"
    assert "processors: FrameCounter@before_llm, FrameCounter@after_llm" in log
    # A processor that wants audio (the default) keeps the call on the full path.
    assert record["audio_lane"] == "full"
    assert "audio lane full (needs audio: FrameCounter" in log
    counts = {}
    for event in events_of(record, "FrameCounter"):
        tag, *pairs = event.split()
        counts[tag] = {k: int(v) for k, v in (p.split("=") for p in pairs)}
    # Both saw the caller's audio on its way to the model; only the stage after the
    # Realtime service saw the bot's audio on its way to the caller.
    assert counts["before"]["caller_audio"] > 100
    assert counts["before"]["bot_audio"] == 0
    assert counts["after"]["bot_audio"] > 10


async def test_silent_caller_is_reprompted_then_hung_up_on(tmp_path, emulator):
    timeout_s = 2.0
    watchdog = {
        "name": "no_input_watchdog",
        "options": {
            "timeout_s": timeout_s,
            "max_reprompts": 1,
            "reprompt": REPROMPT,
            "closing_line": CLOSING,
        },
    }
    profile = write_profile(tmp_path, [watchdog])
    async with FakeProviderApi() as provider_api:
        env = twilio_env(tmp_path, provider_api.url)
        args = ("--transport", "twilio", "--realtime-url", emulator.url, "--profile", profile)
        async with run_bot(tmp_path, *args, env=env) as bot:
            result = await place_call(bot, Silence(40.0))
            [record] = await bot.wait_for_records(1)
    [session] = emulator.sessions

    assert result.closed_by == "server", "the bot must end the call, not the caller"
    assert record["end_reason"] == "no input"
    # The same hang-up as the hangup_call tool: the provider's REST call ends the line.
    [hang_up] = provider_api.twilio_updates(result.call_sid)
    assert hang_up.form == {"Status": "completed"}
    bot_lines = [t["text"] for t in record["transcript"] if t["role"] == "bot"]
    assert bot_lines[1:] == [REPROMPT, CLOSING]
    # The caller heard three utterances: greeting, re-prompt, closing line.
    # (The emulator voices every "Say exactly" line with the greeting clip.)
    one_line_s = voiced_seconds(bot_clip(GREETING).pcm8)
    assert result.greeting_audio_s > 2.5 * one_line_s
    # Each line came only after timeout_s of silence following the previous one. A bot line
    # is stamped when the assistant aggregator records it, a few ms after the bot stopped
    # speaking started the watchdog's clock: allow that much (seen: 1.999 s for 2 s).
    spoken = [t["at"] for t in record["transcript"] if t["role"] == "bot"]
    starts = [e["at"] for e in record["events"] if e["source"] == "no_input_watchdog"]
    assert len(starts) == 2
    assert spoken[0] < starts[0] < spoken[1] < starts[1] < spoken[2]
    assert seconds_between(spoken[0], starts[0]) >= timeout_s - RECORD_STAMP_SLACK_S
    assert seconds_between(spoken[1], starts[1]) >= timeout_s - RECORD_STAMP_SLACK_S
    # The lines went to the model as instructions, not as hard-coded audio.
    asked = [text_of(i) for i in session.items if i.get("role") == "system"]
    assert REPROMPT in asked[-2] and CLOSING in asked[-1]


def seconds_between(start_iso: str, end_iso: str) -> float:
    return (datetime.fromisoformat(end_iso) - datetime.fromisoformat(start_iso)).total_seconds()


def dtmf_profile(tmp_path: Path, **options) -> str:
    keypad = {"name": "dtmf", "options": {"inter_digit_timeout_s": 1.0, **options}}
    return write_profile(
        tmp_path,
        [keypad],
        tools=["transfer_call"],
        tool_settings={"transfer_destinations": {"operator": "+15550100999"}},
    )


async def test_keypad_entries_reach_the_model_as_one_message_each(tmp_path, emulator):
    profile = dtmf_profile(tmp_path)
    args = ("--transport", "twilio", "--realtime-url", emulator.url, "--profile", profile)
    async with run_bot(tmp_path, *args) as bot:
        # Ended by the terminator; then, while the bot answers, one ended by the timeout.
        steps = (Dtmf("1234#"), Silence(2.0), Dtmf("42"), Silence(4.0))
        result = await place_call(bot, *steps)
        [record] = await bot.wait_for_records(1)
    [session] = emulator.sessions

    assert result.dtmf_sent == "1234#42"
    told = [text_of(i) for i in session.items if "keypad" in text_of(i)]
    assert told == [
        "The caller pressed 1 2 3 4 # on their phone keypad.",
        "The caller pressed 4 2 on their phone keypad.",
    ]
    assert events_of(record, "dtmf") == [
        "keys 1234#: sent to the model",
        "keys 42: sent to the model",
    ]
    # The model answered the first entry out loud (the second key press cut it short).
    answers = [i for i in session.items if i.get("role") == "assistant"]
    assert len(answers) >= 2, "greeting plus at least one answer to the keys"
    assert result.bot_audio_total_s > voiced_seconds(bot_clip(GREETING).pcm8) + 0.5


async def test_mapped_key_transfers_the_caller_to_the_operator(tmp_path, emulator):
    action = {"tool": "transfer_call", "arguments": {"destination": "operator"}}
    profile = dtmf_profile(tmp_path, actions={"0": action})
    async with FakeProviderApi() as provider_api:
        env = twilio_env(tmp_path, provider_api.url)
        args = ("--transport", "twilio", "--realtime-url", emulator.url, "--profile", profile)
        async with run_bot(tmp_path, *args, env=env) as bot:
            result = await place_call(bot, Dtmf("0"), Silence(15.0))
            [record] = await bot.wait_for_records(1)
    [session] = emulator.sessions

    assert result.closed_by == "server"
    assert record["end_reason"] == "transferred to operator"
    assert events_of(record, "dtmf") == ["keys 0: running transfer_call"]
    # The model was told, so it announced the transfer before the line was handed over.
    assert any("ran transfer_call" in text_of(i) for i in session.items)
    assert record["transcript"][-1]["role"] == "bot"
    [update] = provider_api.twilio_updates(result.call_sid)
    assert "<Number>+15550100999</Number>" in update.form["Twiml"]
    assert not [i for i in session.items if i.get("type") == "function_call"], (
        "the key ran the tool itself; the model never had to call it"
    )
