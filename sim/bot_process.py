"""Start the real runner.py as a subprocess: end-to-end tests, benchmarks and users' CI."""

import asyncio
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent


# Ports handed out for servers that start later (below Linux's default ephemeral range).
PORT_RANGE = (20000, 32768)
_next_port: int | None = None


def _ephemeral_floor() -> int:
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port nothing holds now, for a server started next that cannot bind port 0 and say
    which port it got (runner.py is another process; an AGI port goes on its command line).

    A port the kernel picked for a bind to port 0 and released again could be handed to the
    next bind to port 0 or outgoing connection anywhere on the machine (an emulator, a
    client, a parallel test worker) before the server binds it. So ports are drawn from
    below the kernel's ephemeral range, one after another per process, and parallel test
    workers (pytest-xdist's PYTEST_XDIST_WORKER, gw0, gw1, ...) draw from separate blocks.
    """
    global _next_port
    low, high = PORT_RANGE
    if _ephemeral_floor() < high:  # the ephemeral range is not where we expect it
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    block = (high - low) // workers
    start = low + block * (int(worker) % workers if worker.isdigit() else 0)
    if _next_port is None or not start <= _next_port < start + block:
        _next_port = start + random.randrange(block)
    for _ in range(block):
        port = _next_port
        _next_port = start + (_next_port + 1 - start) % block
        if _bindable(port):
            return port
    raise OSError(f"no free port in {start}-{start + block - 1}")


class BotProcess:
    def __init__(self, proc: subprocess.Popen, port: int, log_path: Path, records_dir: Path):
        self.proc = proc
        self.port = port
        self.log_path = log_path
        self.records_dir = records_dir

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def asterisk_url(self) -> str:
        """chan_websocket's endpoint (`--transport asterisk`)."""
        return f"ws://127.0.0.1:{self.port}/asterisk"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def records(self) -> list[dict]:
        import json

        lines = []
        for path in sorted(self.records_dir.glob("calls-*.jsonl")):
            lines += [json.loads(line) for line in path.read_text().splitlines() if line]
        return lines

    async def wait_for_records(self, count: int, timeout_s: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            records = self.records()
            if len(records) >= count:
                return records
            await asyncio.sleep(0.1)
        raise AssertionError(f"expected {count} call records, found {len(self.records())}")


def bot_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TWILIO_"))}
    env.update(
        {
            "OPENAI_API_KEY": "sk-test-e2e",
            "RECORDS_DIR": str(tmp_path / "records"),
            "LOG_LEVEL": "DEBUG",
            "PYTHONUNBUFFERED": "1",
            # SIGTERM at the end of a test must not wait out live calls for minutes.
            "DRAIN_TIMEOUT_S": "2",
        }
    )
    env.update(extra)
    return env


@asynccontextmanager
async def run_bot(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None, startup_timeout_s: float = 30.0
) -> AsyncIterator[BotProcess]:
    """The emulator usually runs in the test's own event loop, so never block it here."""
    port = free_port()
    log_path = tmp_path / f"bot-{port}.log"
    env = env or bot_env(tmp_path)
    with open(log_path, "wb") as log:  # noqa: ASYNC230 - once per test, before any call
        proc = subprocess.Popen(  # noqa: ASYNC220 - the bot must be a real separate process
            [sys.executable, "runner.py", "--host", "127.0.0.1", "--port", str(port), *args],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    bot = BotProcess(proc, port, log_path, Path(env["RECORDS_DIR"]))
    try:
        deadline = time.monotonic() + startup_timeout_s
        async with httpx.AsyncClient() as client:
            while True:
                if proc.poll() is not None:
                    raise AssertionError(f"runner exited {proc.returncode}:\n{bot.log()[-3000:]}")
                try:
                    response = await client.get(f"{bot.http_url}/health", timeout=0.5)
                    if response.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"runner not healthy in {startup_timeout_s}s:\n{bot.log()}"
                    )
                await asyncio.sleep(0.1)
        yield bot
    finally:
        proc.terminate()
        for _ in range(100):
            if proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        else:
            proc.kill()
