"""py-spy on the bot while a bench level runs (`python -m bench.load --py-spy DIR`)."""

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path


@asynccontextmanager
async def py_spy(pid: int, out: Path | None) -> AsyncIterator[None]:
    """Sample the bot with py-spy (the dev group has it) while the level runs: collapsed
    stacks in `out` (flamegraph.pl, speedscope.app and bench.profile_top read them)."""
    if out is None:
        yield
        return
    spy = Path(sys.executable).with_name("py-spy")
    cmd = [str(spy), "record", "-p", str(pid), "-r", "100", "--nonblocking"]
    proc = await asyncio.create_subprocess_exec(
        *cmd, "--format", "raw", "-o", str(out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
        _, err = await proc.communicate()
        if proc.returncode not in (0, -signal.SIGINT):
            print(f"py-spy failed: {err.decode()[-300:]}", file=sys.stderr)
