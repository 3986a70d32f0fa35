"""MAX_REALTIME_SESSIONS: at most this many Realtime sessions at once across every worker
process on the host (OpenAI's default account limit is 100), apart from the per-worker call
cap (MAX_CONCURRENT_CALLS).

One lock file per slot in a directory the workers share (`RECORDS_DIR/.realtime-sessions`):
a call holds a slot by an exclusive `flock` on its own open descriptor. The kernel drops the
lock when the descriptor closes or the process dies, so a crashed worker never leaks a slot
and there is no counter to repair — the simplest thing that stays right. Per host: workers on
other machines need their own share of the account's limit.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SESSIONS_SUBDIR = ".realtime-sessions"


class RealtimeSessionSlots:
    def __init__(self, directory: Path, capacity: int) -> None:
        self.directory = directory
        self.capacity = capacity
        # Slots this object holds: a claim skips them instead of opening and locking their
        # files only to be refused (flock refuses a second descriptor of the same process as
        # it refuses another process), which at 100 calls was ~5,000 system calls a burst.
        self._held: set[int] = set()

    def _try_slot(self, index: int) -> int | None:
        """An open descriptor holding slot `index`, or None when another holds it."""
        path = self.directory / f"slot-{index}.lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
        except FileNotFoundError:
            self.directory.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        return fd

    def _claim_fd(self) -> tuple[int, int] | None:
        for index in range(self.capacity):
            if index in self._held:
                continue
            fd = self._try_slot(index)
            if fd is not None:
                return index, fd
        return None

    @contextmanager
    def claim(self) -> Iterator[bool]:
        """Yields True while holding a slot, False (holding nothing) when all are taken."""
        slot = self._claim_fd()
        if slot is not None:
            self._held.add(slot[0])
        try:
            yield slot is not None
        finally:
            if slot is not None:
                self._held.discard(slot[0])
                os.close(slot[1])  # closing the descriptor releases its lock

    def available(self) -> bool:
        """Whether a slot is free right now (for a webhook deciding before the stream)."""
        with self.claim() as claimed:
            return claimed
