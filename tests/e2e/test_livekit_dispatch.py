"""Dispatch mode's bot processes, as real child processes: limited per room and in number,
reaped when they exit, stopped with SIGTERM."""

import asyncio
import sys

import pytest

from bot.rooms.processes import RoomProcesses

pytestmark = pytest.mark.e2e


async def test_room_processes_are_reaped_and_free_their_slot():
    def child(room: str) -> list[str]:
        code = "import sys, time; time.sleep(0.3); sys.exit(7)" if room == "quick" else ""
        return [sys.executable, "-c", code or "import time; time.sleep(60)"]

    processes = RoomProcesses(limit=2, command=child)
    assert await processes.start("quick")
    assert await processes.start("slow")
    assert not await processes.start("quick"), "a room with a live bot is started again"
    assert not await processes.start("third"), "the limit was not applied"
    for _ in range(100):
        if not processes.has("quick"):
            break
        await asyncio.sleep(0.05)
    assert processes.exit_codes["quick"] == 7
    assert processes.rooms == ["slow"]
    assert await processes.start("third")
    await processes.stop_all(timeout_s=5)
    assert processes.rooms == []
    assert processes.exit_codes["slow"] == -15 and processes.exit_codes["third"] == -15
