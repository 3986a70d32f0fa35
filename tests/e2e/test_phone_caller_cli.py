"""The phone caller's command line (`python -m sim.phone`, a real process) against the fake
Pipecat-side bot: one JSON line on stdout, exit code 1 when the call did not connect."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from sim.bot_process import REPO
from tests.helpers.fakebot import BotScript, FakeBot, hello_clip, tone

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(30)]


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return hello_clip(tmp_path)


async def test_cli_prints_one_json_line(clip: Path) -> None:
    async with FakeBot(BotScript(greeting=tone(0.3))) as bot:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sim.phone",
            "--url",
            bot.url,
            "--provider",
            "exotel",
            "--say",
            str(clip),
            "--silence",
            "0.8",
            "--dtmf",
            "1#",
            "--param",
            "k=v",
            "--wait-greeting",
            "2",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=REPO,
        )
        out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["provider"] == "exotel" and data["connected"] is True
    assert data["dtmf_sent"] == "1#" and bot.log.dtmf == ["1", "#"]
    assert data["turns"][0]["utterance"] == "hello.wav"
    assert bot.log.call_data.custom_parameters["k"] == "v"


async def test_cli_exit_code_when_not_connected() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sim.phone",
        "--url",
        "ws://127.0.0.1:9/ws",
        "--silence",
        "0.1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 1
    assert json.loads(out.decode())["connected"] is False
    assert err.decode().strip().splitlines()[-1].startswith("call did not connect")
