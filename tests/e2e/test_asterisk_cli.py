"""`python -m sim.asterisk` as a process: FastAGI register, an AudioSocket call, FastAGI after."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from sim.asterisk.audiosocket import message
from tests.helpers.fake_asterisk_bots import Peer, fake_agi, tcp_server, tone_bytes

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


async def test_cli_registers_over_fastagi_then_calls_over_audiosocket() -> None:
    async def bot(peer: Peer) -> None:
        await peer.send(message(0x10, tone_bytes(0.3)))
        await peer.task

    script = {
        "register": ['SET VARIABLE AI_SESSION "s-1"', 'VERBOSE "registered" 1', "ANSWER"],
        "after": ['SET VARIABLE AI_DONE "yes"', "ANSWER"],
    }
    async with tcp_server(bot) as as_port, fake_agi(script) as (agi_port, sessions):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sim.asterisk",
            "--audiosocket",
            f"127.0.0.1:{as_port}",
            "--agi",
            f"127.0.0.1:{agi_port}",
            "--cname",
            "Ada Lovelace",
            "--silence",
            "0.5",
            "--wait-greeting",
            "0",
            cwd=REPO,
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(proc.communicate(), timeout=20)
    assert proc.returncode == 0
    result = json.loads(out)
    assert result["transport"] == "audiosocket" and result["bot_audio_total_s"] > 0.25
    assert result["agi_variables"] == {"AI_SESSION": "s-1", "AI_DONE": "yes"}
    register, after = sessions
    assert register["env"]["agi_arg_1"] == result["stream_sid"]  # the AudioSocket UUID
    assert register["env"]["agi_request"] == f"agi://127.0.0.1:{agi_port}/register"
    assert register["env"]["agi_calleridname"] == "Ada Lovelace"
    assert register["answers"] == ["200 result=1", "200 result=1", "200 result=0"]
    # The caller hung up, so "after" runs in the h extension on a dead channel.
    assert after["answers"] == [
        "200 result=1",
        "511 Command Not Permitted on a dead channel or intercept routine",
    ]
    assert [a["outcome"] for a in result["agi"]] == ["completed", "completed"]
