"""Tools on Asterisk lines, end to end: hang-up after the farewell has played (QUEUE_DRAINED
before HANGUP), and transfer / voicemail handed to the dialplan through FastAGI `after`.

Each scenario is its own runner.py and Realtime emulator (the emulator scripts one function
call for every session); independent scenarios run side by side to keep the tier short.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from sim.asterisk import AsteriskCallResult, AsteriskWebSocketCall, AudioSocketCall, run_fastagi
from sim.asterisk.dialplan import call_with_agi
from sim.bot_process import run_bot
from sim.phone import Say, Silence
from sim.realtime import EmulatorConfig, RealtimeEmulator, ScriptedFunctionCall
from tests.helpers.asterisk_calls import (
    FAREWELL_CLIP,
    FAREWELL_VOICED_S,
    GOODBYE,
    ORDER,
    AsteriskPorts,
    two_turns,
)
from tests.helpers.tools import function_outputs, write_profile

pytestmark = pytest.mark.e2e

DESTINATIONS = {"sales": "2001", "support": "+15550100123"}
MAILBOXES = {"sales": "2001@default"}
TOOLS = ["hangup_call", "transfer_call", "cancel_transfer", "send_to_voicemail"]


@dataclass
class Outcome:
    result: AsteriskCallResult
    record: dict
    session: object
    log: str
    agi_port: int
    unknown_after: object = None


async def run_scenario(
    tmp_path: Path,
    name: str,
    function_call: ScriptedFunctionCall,
    steps: list,
    *,
    transport: str = "asterisk",
    hangup_timeout_s: float = 2.0,
) -> Outcome:
    """One call placed the way a FreePBX dialplan does: FastAGI register, the call, FastAGI
    after; plus an `after` for an id the bot never saw."""
    home = tmp_path / name
    home.mkdir()
    profile = write_profile(
        home,
        TOOLS,
        transfer_destinations=DESTINATIONS,
        voicemail=MAILBOXES,
        hangup_timeout_s=hangup_timeout_s,
    )
    config = EmulatorConfig(function_calls=[function_call], replies=[FAREWELL_CLIP])
    ports = AsteriskPorts.free()
    async with RealtimeEmulator(config) as emu:
        args = (*ports.args(transport), "--realtime-url", emu.url, "--profile", profile)
        async with run_bot(home, *args) as bot:
            if transport == "audiosocket":
                call = AudioSocketCall("127.0.0.1", ports.audiosocket, steps, rate=8000)
            else:
                call = AsteriskWebSocketCall(bot.asterisk_url, steps, "ulaw", "json")
            agi = f"127.0.0.1:{ports.agi}"
            result = await call_with_agi(call, agi, "+15551230000", "Ada Lovelace", "2001")
            unknown = await run_fastagi(f"agi://{agi}/after", ["no-such-call"], timeout_s=5)
            [record] = await bot.wait_for_records(1)
            log = bot.log()
        [session] = emu.sessions
    return Outcome(result, record, session, log, ports.agi, unknown)


def seconds_between(start_iso: str, end_iso: str) -> float:
    return (datetime.fromisoformat(end_iso) - datetime.fromisoformat(start_iso)).total_seconds()


async def test_hangup_plays_the_farewell_to_its_end_then_hangs_up(tmp_path):
    with_farewell, no_audio = await asyncio.gather(
        run_scenario(
            tmp_path,
            "farewell",
            ScriptedFunctionCall(after_user_turn=1, name="hangup_call"),
            [Say(GOODBYE), Silence(15.0)],
        ),
        run_scenario(
            tmp_path,
            "silent",
            ScriptedFunctionCall(after_user_turn=1, name="hangup_call", reply_after_output=False),
            [Say(GOODBYE), Silence(15.0)],
        ),
    )
    for outcome in (with_farewell, no_audio):
        result, record = outcome.result, outcome.record
        assert result.closed_by == "server" and result.hangup_received, result.errors
        # HANGUP came only after Asterisk reported its queue drained (REPORT_QUEUE_DRAINED).
        assert result.queue_drained == 1
        assert record["end_reason"] == "bot hung up"
        assert outcome.result.agi_variables["AI_ACTION"] == "hangup"
    farewell_heard = with_farewell.result.turns[0].bot_audio_s
    assert farewell_heard >= FAREWELL_VOICED_S - 0.05, "the farewell must be heard to its end"
    assert "Goodbye" in with_farewell.record["transcript"][-1]["text"]
    assert no_audio.result.turns[0].bot_audio_s == 0.0
    assert "no bot audio" in no_audio.log
    tool_to_end_s = seconds_between(
        no_audio.record["tool_calls"][0]["at"], no_audio.record["ended_at"]
    )
    assert 2.0 <= tool_to_end_s < 7.0, tool_to_end_s


async def test_transfer_and_voicemail_reach_the_dialplan_through_fastagi(tmp_path):
    transfer, unlisted, voicemail = await asyncio.gather(
        run_scenario(
            tmp_path,
            "transfer",
            ScriptedFunctionCall(
                after_user_turn=1, name="transfer_call", arguments='{"destination": "sales"}'
            ),
            [Say(ORDER), Silence(15.0)],
        ),
        run_scenario(
            tmp_path,
            "unlisted",
            ScriptedFunctionCall(
                after_user_turn=1,
                name="transfer_call",
                arguments='{"destination": "+19995550000"}',
            ),
            two_turns(),
        ),
        run_scenario(
            tmp_path,
            "voicemail",
            ScriptedFunctionCall(
                after_user_turn=1, name="send_to_voicemail", arguments='{"mailbox": "sales"}'
            ),
            [Say(ORDER), Silence(15.0)],
            transport="audiosocket",
        ),
    )
    # The allow-listed target, answered to the dialplan once the announcement has played.
    assert transfer.record["end_reason"] == "transferred to sales"
    assert transfer.result.turns[0].bot_audio_s > 1.0, "the bot announces the transfer first"
    assert transfer.result.queue_drained == 1 and transfer.result.hangup_received
    [register, after] = transfer.result.agi
    assert register["variables"] == {"AI_REGISTERED": "1"}
    assert after["outcome"] == "completed" and after["duration_s"] < 3.0
    assert after["variables"] == {"AI_ACTION": "transfer", "AI_TARGET": "2001"}
    # An invented destination is refused by the tool and never reaches the dialplan.
    [output] = function_outputs(unlisted.session)
    assert output["ok"] is False and "unknown destination" in output["error"]
    assert unlisted.result.closed_by == "caller"
    assert unlisted.record["end_reason"] == "caller hung up"
    assert unlisted.result.agi_variables == {"AI_REGISTERED": "1", "AI_ACTION": "hangup"}
    # Voicemail on AudioSocket: the bot ends its leg with 0x00 after the announcement.
    assert voicemail.record["end_reason"] == "sent to voicemail sales"
    assert voicemail.result.hangup_received and voicemail.result.closed_by == "server"
    assert voicemail.record["caller_name"] == "Ada Lovelace"  # from FastAGI register
    assert voicemail.result.agi_variables["AI_ACTION"] == "voicemail"
    assert voicemail.result.agi_variables["AI_TARGET"] == "2001@default"
    # An id the bot never saw: a clear answer at once, not a hang.
    for outcome in (transfer, unlisted, voicemail):
        unknown = outcome.unknown_after
        assert unknown.outcome == "completed" and unknown.duration_s < 1.0
        assert unknown.variables["AI_ACTION"] == "unknown"
        assert unknown.variables["AI_ERROR"] == "no call with id no-such-call"
