"""Tools end to end: the real runner.py, the Realtime emulator scripting function calls,
the phone caller, and a local fake of the Twilio REST API."""

from datetime import datetime
from xml.etree import ElementTree

import pytest

from sim.bot_process import run_bot
from sim.phone import Say, Silence
from sim.provider_api import FakeProviderApi
from sim.realtime import EmulatorConfig, RealtimeEmulator, ScriptedFunctionCall
from tests.helpers.tools import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    function_outputs,
    place_call,
    twilio_env,
    write_profile,
)

pytestmark = pytest.mark.e2e

ORDER = "sim/audio/caller_order_status.wav"
THANKS = "sim/audio/caller_thanks.wav"
GOODBYE = "sim/audio/caller_goodbye.wav"
FAREWELL = ["bot_reply_3.wav"]  # "Thank you for calling. Goodbye!"
ALL_TOOLS = ["hangup_call", "transfer_call", "cancel_transfer"]
DESTINATIONS = {"sales": "+15550100123", "support": "sip:support@pbx.example.com"}


@pytest.fixture
async def provider_api():
    async with FakeProviderApi() as api:
        yield api


def seconds_between(start_iso: str, end_iso: str) -> float:
    return (datetime.fromisoformat(end_iso) - datetime.fromisoformat(start_iso)).total_seconds()


async def test_session_update_carries_exactly_the_profile_tools_flat(tmp_path, provider_api):
    profile = write_profile(tmp_path, ALL_TOOLS, transfer_destinations=DESTINATIONS)
    async with RealtimeEmulator(EmulatorConfig()) as emu:
        env = twilio_env(tmp_path, provider_api.url)
        args = ("--transport", "twilio", "--realtime-url", emu.url, "--profile", profile)
        async with run_bot(tmp_path, *args, env=env) as bot:
            result = await place_call(bot, Silence(0.5))
            assert result.greeting_audio_s > 1.0
            await bot.wait_for_records(1)
        [session] = emu.sessions
    updates = [e["session"] for e in session.client_events if e["type"] == "session.update"]
    tool_lists = [u["tools"] for u in updates if "tools" in u]
    assert tool_lists, "no session.update carried tools"
    for tools in tool_lists:
        assert [t["name"] for t in tools] == ALL_TOOLS
        for tool in tools:
            # Flat: name/parameters at the top level, no Chat-Completions `function` wrapper.
            assert tool["type"] == "function" and "function" not in tool
            assert tool["parameters"]["type"] == "object"
    # The emulator validated each update against the GA schema and accepted it.
    assert session.config["tools"] == tool_lists[-1]
    assert not [e for e in session.server_events if e["type"] == "error"]
    transfer = next(t for t in tool_lists[-1] if t["name"] == "transfer_call")
    assert "sales" in transfer["description"] and "support" in transfer["description"]


@pytest.mark.parametrize("farewell_audio", [True, False], ids=["with_farewell", "no_audio"])
async def test_hangup_ends_the_call_and_hangs_up_over_rest(tmp_path, provider_api, farewell_audio):
    timeout_s = 2.0
    profile = write_profile(tmp_path, ["hangup_call"], hangup_timeout_s=timeout_s)
    hangup = ScriptedFunctionCall(
        after_user_turn=1, name="hangup_call", reply_after_output=farewell_audio
    )
    config = EmulatorConfig(function_calls=[hangup], replies=FAREWELL)
    async with RealtimeEmulator(config) as emu:
        env = twilio_env(tmp_path, provider_api.url)
        args = ("--transport", "twilio", "--realtime-url", emu.url, "--profile", profile)
        async with run_bot(tmp_path, *args, env=env) as bot:
            result = await place_call(bot, Say(GOODBYE), Silence(15.0))
            [record] = await bot.wait_for_records(1)
            log = bot.log()
        [session] = emu.sessions

    assert result.closed_by == "server", "the bot, not the caller, must end the call"
    assert record["end_reason"] == "bot hung up"
    assert record["audio_lane"] == "fast", "tools take no audio: the call's audio skips them"
    assert [t["name"] for t in record["tool_calls"]] == ["hangup_call"]
    assert function_outputs(session)[0]["ok"] is True
    farewell_heard = result.turns[0].bot_audio_s
    tool_to_end_s = seconds_between(record["tool_calls"][0]["at"], record["ended_at"])
    if farewell_audio:
        assert farewell_heard > 1.0, "the farewell must be heard before the line closes"
        assert "Goodbye" in record["transcript"][-1]["text"]
    else:
        assert farewell_heard == 0.0
        assert "no bot audio" in log
        # Nothing came, so the hard timeout ended it: not before, and not long after.
        assert timeout_s <= tool_to_end_s < timeout_s + 5.0
    [hang_up] = provider_api.twilio_updates(result.call_sid)
    assert hang_up.form == {"Status": "completed"}
    assert hang_up.basic_auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert hang_up.path == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{result.call_sid}.json"


async def test_transfer_sends_dial_twiml_after_the_announcement(tmp_path, provider_api):
    profile = write_profile(tmp_path, ALL_TOOLS, transfer_destinations=DESTINATIONS)
    transfer = ScriptedFunctionCall(
        after_user_turn=1, name="transfer_call", arguments='{"destination": "sales"}'
    )
    async with RealtimeEmulator(EmulatorConfig(function_calls=[transfer])) as emu:
        env = twilio_env(tmp_path, provider_api.url)
        args = ("--transport", "twilio", "--realtime-url", emu.url, "--profile", profile)
        async with run_bot(tmp_path, *args, env=env) as bot:
            result = await place_call(bot, Say(ORDER), Silence(15.0))
            [record] = await bot.wait_for_records(1)
        [session] = emu.sessions

    assert result.closed_by == "server"
    assert record["end_reason"] == "transferred to sales"
    assert result.turns[0].bot_audio_s > 1.0, "the bot announces the transfer first"
    assert function_outputs(session)[0]["destination"] == "sales"
    # Exactly one REST request: the <Dial>. No Status=completed, which would cut off the
    # caller the call was just handed to.
    [update] = provider_api.twilio_updates(result.call_sid)
    assert update.basic_auth == (ACCOUNT_SID, AUTH_TOKEN)
    assert set(update.form) == {"Twiml"}
    twiml = ElementTree.fromstring(update.form["Twiml"])
    assert twiml.tag == "Response"
    [dial] = list(twiml)
    assert dial.tag == "Dial"
    [number] = list(dial)
    assert (number.tag, number.text) == ("Number", "+15550100123")


async def test_unlisted_destination_is_refused_and_the_call_continues(tmp_path, provider_api):
    profile = write_profile(tmp_path, ALL_TOOLS, transfer_destinations=DESTINATIONS)
    invented = ScriptedFunctionCall(
        after_user_turn=1, name="transfer_call", arguments='{"destination": "+19995550000"}'
    )
    async with RealtimeEmulator(EmulatorConfig(function_calls=[invented])) as emu:
        env = twilio_env(tmp_path, provider_api.url)
        args = ("--transport", "twilio", "--realtime-url", emu.url, "--profile", profile)
        async with run_bot(tmp_path, *args, env=env) as bot:
            steps = (Say(ORDER), Silence(3.0), Say(THANKS), Silence(3.0))
            result = await place_call(bot, *steps)
            [record] = await bot.wait_for_records(1)
        [session] = emu.sessions

    [output] = function_outputs(session)
    assert output["ok"] is False and "unknown destination" in output["error"]
    assert "sales" in output["error"]
    assert provider_api.requests == [], "a refused transfer must not reach the provider"
    assert result.closed_by == "caller" and record["end_reason"] == "caller hung up"
    assert all(turn.bot_audio_s > 1.0 for turn in result.turns), "the call must go on"
