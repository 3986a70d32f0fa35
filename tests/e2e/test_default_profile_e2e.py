"""The shipped default profile behaves like a receptionist on a simulated phone call: it
re-prompts a silent caller once and then hangs up, and it ends the call after a goodbye
(the real runner.py, the Realtime emulator, sim.phone over real sockets)."""

import pytest

from sim.bot_process import run_bot
from sim.phone import PhoneCaller, Say, Silence
from sim.phone.audio import voiced_seconds
from sim.realtime import EmulatorConfig
from sim.realtime.clips import GREETING, bot_clip

pytestmark = pytest.mark.e2e

GOODBYE = "sim/audio/caller_goodbye.wav"


async def test_default_profile_reprompts_a_silent_caller_then_hangs_up(tmp_path, emulator):
    async with run_bot(tmp_path, "--transport", "twilio", "--realtime-url", emulator.url) as bot:
        result = await PhoneCaller(url=bot.ws_url, provider="twilio", steps=[Silence(45.0)]).run()
        [record] = await bot.wait_for_records(1)

    assert record["profile"] == "default"
    assert result.closed_by == "server", "the bot ends the call, not the caller"
    assert record["end_reason"] == "no input"
    bot_lines = [t["text"] for t in record["transcript"] if t["role"] == "bot"]
    assert bot_lines[1:] == [
        "Are you still there?",
        "I can't hear anything, so I'll end the call now. Goodbye!",
    ]
    watchdog = [e["event"] for e in record["events"] if e["source"] == "no_input_watchdog"]
    assert len(watchdog) == 2 and "re-prompt 1/1" in watchdog[0], watchdog
    # The caller heard all three lines (the emulator voices each with the greeting clip).
    assert result.greeting_audio_s > 2.5 * voiced_seconds(bot_clip(GREETING).pcm8)


async def test_default_profile_hangs_up_after_the_callers_goodbye_is_answered(tmp_path, make_emu):
    # The emulator answers with "Thank you for calling. Goodbye!" and never calls
    # hangup_call: the default profile's farewell guard ends the call once it was heard.
    emulator = await make_emu(
        replies=["bot_reply_3.wav"], stream_speed=EmulatorConfig().stream_speed
    )
    steps = [Silence(5.0), Say(GOODBYE), Silence(20.0)]
    async with run_bot(tmp_path, "--transport", "twilio", "--realtime-url", emulator.url) as bot:
        result = await PhoneCaller(url=bot.ws_url, provider="twilio", steps=steps).run()
        [record] = await bot.wait_for_records(1)

    assert result.closed_by == "server", "the bot hangs up; the caller would have stayed 20 s"
    assert record["end_reason"] == "guarded hang-up"
    assert record["transcript"][-1]["role"] == "bot"
    assert "Goodbye" in record["transcript"][-1]["text"]
    [goodbye] = result.turns
    assert goodbye.bot_audio_s > 1.0, "the farewell plays out before the line closes"
