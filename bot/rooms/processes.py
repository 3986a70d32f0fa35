"""One bot process per room, at most `limit` at once, each reaped the moment it exits.

A room is "taken" from the moment its process is started until that process has exited, so
a burst of webhooks for the same room (room_started, then participant_joined for every
person) starts exactly one bot.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from loguru import logger

REPO = Path(__file__).resolve().parents[2]


def bot_command(room: str) -> list[str]:
    # "--room=NAME" in one word: a room named "-x" must not read as a flag.
    return [sys.executable, str(REPO / "runner.py"), "--transport", "livekit", f"--room={room}"]


class RoomProcesses:
    """Starts `command(room)` per room; a room with a live process is never started twice."""

    def __init__(
        self,
        limit: int,
        command: Callable[[str], list[str]] = bot_command,
        extra_args: Sequence[str] = (),
    ):
        """`extra_args` follow the command (e.g. --profile, --offline from the dispatcher)."""
        self.limit = limit
        self._command = command
        self._extra_args = list(extra_args)
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        # Rooms whose process is being spawned: taken already, so a webhook arriving
        # during the spawn's await cannot start a second one.
        self._starting: set[str] = set()
        self._reapers: set[asyncio.Task] = set()
        self.exit_codes: dict[str, int] = {}

    @property
    def rooms(self) -> list[str]:
        return sorted(self._procs)

    def has(self, room: str) -> bool:
        return room in self._procs or room in self._starting

    @property
    def full(self) -> bool:
        return len(self._procs) + len(self._starting) >= self.limit

    async def start(self, room: str) -> bool:
        """True if a process was started for `room` now; False if it has one or we are full."""
        if self.has(room) or self.full:
            return False
        argv = [*self._command(room), *self._extra_args]
        self._starting.add(room)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, cwd=REPO, stdin=asyncio.subprocess.DEVNULL
            )
        finally:
            self._starting.discard(room)
        self._procs[room] = proc
        logger.info(
            f"dispatch: room {room}: bot started (pid {proc.pid}), {len(self._procs)} running"
        )
        reaper = asyncio.create_task(self._reap(room, proc))
        self._reapers.add(reaper)
        reaper.add_done_callback(self._reapers.discard)
        return True

    async def _reap(self, room: str, proc: asyncio.subprocess.Process) -> None:
        code = await proc.wait()
        self._procs.pop(room, None)
        self.exit_codes[room] = code
        logger.info(f"dispatch: room {room}: bot exited with {code}, {len(self._procs)} running")

    async def stop_all(self, timeout_s: float = 10.0) -> None:
        """SIGTERM every bot (each writes its record), SIGKILL what is left after `timeout_s`."""
        for proc in list(self._procs.values()):
            if proc.returncode is None:
                proc.terminate()
        if self._reapers:
            _done, pending = await asyncio.wait(set(self._reapers), timeout=timeout_s)
            for proc in list(self._procs.values()):
                if proc.returncode is None:
                    proc.kill()
            if pending:
                await asyncio.wait(pending, timeout=timeout_s)
