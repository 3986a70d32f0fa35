"""A headless Chromium driven over the DevTools protocol (CDP) with the `websockets` package:
no WebDriver, nothing downloaded. The browser is Debian's `chromium` (apt), found on PATH or
in /usr/lib/chromium; `.ci/run` installs it when missing.

The fake microphone plays a WAV file (16-bit PCM) once (`%noloop`), from the moment the page
opens the device.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from sim.bot_process import free_port

CANDIDATES = ("/usr/lib/chromium/chromium", "chromium", "chromium-browser")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name) or (name if Path(name).is_file() else None)
        if path:
            return path
    return None


@dataclass
class Page:
    """One tab: commands in, events collected (Network requests kept for the test)."""

    socket: Any
    requests: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    _waiting: dict[int, asyncio.Future] = field(default_factory=dict)
    _reader: asyncio.Task | None = None

    def start(self) -> None:
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if "id" in message:
                future = self._waiting.pop(message["id"], None)
                if future is not None and not future.done():
                    future.set_result(message)
            elif message.get("method") == "Network.requestWillBeSent":
                self.requests.append(message["params"]["request"]["url"])

    async def send(self, method: str, **params: Any) -> dict:
        command_id = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = future
        await self.socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        reply = await asyncio.wait_for(future, 30)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout_s: float, what: str) -> Any:
        """Polls a page expression until it is truthy; fails naming `what` and the page state."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        # False, not an error, while the page is still loading (no devCall yet).
        guarded = f"(() => {{ try {{ return ({expression}); }} catch (e) {{ return false; }} }})()"
        while True:
            value = await self.evaluate(guarded)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                state = await self.evaluate("JSON.stringify(window.devCall || null)")
                raise AssertionError(f"{what}: not within {timeout_s:g}s; devCall={state}")
            await asyncio.sleep(0.2)

    async def screenshot(self, path: Path) -> None:
        shot = await self.send("Page.captureScreenshot", format="png")
        await asyncio.to_thread(path.write_bytes, base64.b64decode(shot["data"]))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
        await self.socket.close()


@contextlib.asynccontextmanager
async def chromium_page(
    microphone_wav: Path, *, width: int = 1280, height: int = 760
) -> AsyncIterator[Page]:
    """A blank tab of a fresh headless Chromium whose microphone plays `microphone_wav`,
    with Network events on (so the test sees every request the page makes)."""
    binary = find_chromium()
    assert binary, "chromium is not installed"
    port = free_port()
    profile = tempfile.mkdtemp(prefix="devpage-chromium-")
    args = [
        binary,
        "--headless=new",
        "--no-sandbox",  # root in CI containers
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--autoplay-policy=no-user-gesture-required",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={microphone_wav}%noloop",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile}",
        f"--remote-debugging-port={port}",
        "about:blank",
    ]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    page: Page | None = None
    try:
        target = await _first_page_target(port, proc)
        socket = await websockets.connect(target, max_size=64 * 1024 * 1024)
        page = Page(socket)
        page.start()
        await page.send("Network.enable")
        await page.send("Page.enable")
        await page.send("Runtime.enable")
        yield page
    finally:
        if page is not None:
            await page.close()
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


async def _first_page_target(port: int, proc: asyncio.subprocess.Process) -> str:
    deadline = asyncio.get_running_loop().time() + 30
    async with httpx.AsyncClient() as client:
        while True:
            if proc.returncode is not None:
                raise AssertionError(f"chromium exited {proc.returncode} at start-up")
            with contextlib.suppress(httpx.HTTPError):
                targets = (await client.get(f"http://127.0.0.1:{port}/json/list")).json()
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("chromium's DevTools endpoint did not come up in 30 s")
            await asyncio.sleep(0.2)


def microphone_wav(path: Path, clip: str | Path, *, lead_s: float, tail_s: float) -> Path:
    """A caller clip (any rate, 16-bit mono) as Chromium's fake microphone wants it: 16-bit
    PCM at 48 kHz, with `lead_s` of silence before and `tail_s` after."""
    import wave

    import numpy as np

    rate = 48000
    with wave.open(str(clip)) as source:
        samples = np.frombuffer(source.readframes(source.getnframes()), dtype=np.int16)
        source_rate = source.getframerate()
    positions = np.linspace(0, len(samples) - 1, int(len(samples) * rate / source_rate))
    speech = np.interp(positions, np.arange(len(samples)), samples.astype(np.float32))
    audio = np.concatenate(
        [np.zeros(int(lead_s * rate)), speech, np.zeros(int(tail_s * rate))]
    ).astype(np.int16)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(audio.tobytes())
    return path
