"""SIGTERM drains instead of cutting calls, and the process exits within a hard bound.

uvicorn's own shutdown closes every open WebSocket with 1012 at once, which hangs up live
phone calls. This server first runs the app's drain (readiness fails, new media streams are
refused with 1013, live calls finish up to a deadline) while still listening, and only then
lets uvicorn shut down. Calls uvicorn does not hold (browser, AudioSocket) or still live
after a second signal are ended before uvicorn's shutdown, while the Realtime endpoint is
still up. From the first signal a timer outside the event loop bounds it all: past the app's
`hard_deadline_s` the process exits 1, naming the calls still live. A second SIGINT skips
the waits.
"""

import asyncio
import os
import signal
import sys
import threading
import time
from socket import socket
from types import FrameType
from typing import Protocol

import uvicorn
from loguru import logger
from uvicorn.supervisors.multiprocess import STARTUP_FAILURE, Multiprocess, Process

# The exit status when the hard deadline cut the process short.
HARD_EXIT_STATUS = 1
# After the calls' grace: stopping uvicorn, the Realtime endpoint and the event loop.
EXIT_MARGIN_S = 5.0


class DrainHook(Protocol):
    """What the app offers as `state.drain` (bot.telephony.server.TelephonyServer)."""

    @property
    def hard_deadline_s(self) -> float: ...

    async def drain(self) -> None: ...

    async def end_live_calls(self, reason: str) -> list[str]: ...

    def unfinished_call_ids(self) -> list[str]: ...


def exit_now(hook: DrainHook, since: float) -> None:
    """The hard deadline: runs on a timer thread, so a stuck event loop cannot stop it."""
    calls = ", ".join(hook.unfinished_call_ids()) or "none"
    logger.error(
        f"shutdown still not done {time.monotonic() - since:.0f}s after the signal "
        f"(DRAIN_TIMEOUT_S + DRAIN_GRACE_S + margin); exiting now. "
        f"Calls that did not end: {calls}"
    )
    sys.stderr.flush()
    os._exit(HARD_EXIT_STATUS)


def find_drain_hook(app: object) -> DrainHook | None:
    """The app's `state.drain`, looking through uvicorn's middleware wrappers."""
    for _ in range(8):
        if app is None:
            return None
        hook = getattr(getattr(app, "state", None), "drain", None)
        if hook is not None:
            return hook
        app = getattr(app, "app", None)
    return None


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose first SIGTERM/SIGINT drains the app before shutting down.

    Works in one process and in each of `workers=N` processes: the hook is looked up on the
    app the worker itself loaded."""

    _drain_task: asyncio.Task | None = None
    _hard_deadline: threading.Timer | None = None
    _hard_deadline_at = float("inf")
    _signalled_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drain_task is not None or self.should_exit:
            if sig == signal.SIGINT:
                self.force_exit = True
                if hook := find_drain_hook(self.config.loaded_app):
                    self._arm_hard_deadline(hook, EXIT_MARGIN_S)
            self.should_exit = True
            return
        hook = find_drain_hook(self.config.loaded_app)
        if hook is None:
            self.should_exit = True
            return
        logger.warning(f"{signal.Signals(sig).name} received: draining before exit")
        self._arm_hard_deadline(hook, hook.hard_deadline_s)
        # A signal handler runs between bytecodes of the loop's thread: schedule, don't run.
        loop = asyncio.get_event_loop()
        self._drain_task = loop.create_task(self._drain_then_exit(hook))

    def _arm_hard_deadline(self, hook: DrainHook, seconds: float) -> None:
        """Exit at the latest `seconds` from now (an earlier deadline already set stands)."""
        now = time.monotonic()
        if self._signalled_at is None:
            self._signalled_at = now
        if now + seconds >= self._hard_deadline_at:
            return
        if self._hard_deadline is not None:
            self._hard_deadline.cancel()
        self._hard_deadline_at = now + seconds
        timer = threading.Timer(seconds, exit_now, args=(hook, self._signalled_at))
        timer.daemon = True
        timer.start()
        self._hard_deadline = timer

    async def _drain_then_exit(self, hook: DrainHook) -> None:
        try:
            await hook.drain()
        except Exception as e:
            logger.exception(f"drain failed: {e}")
        self.should_exit = True

    async def shutdown(self, sockets: list[socket] | None = None) -> None:
        hook = find_drain_hook(self.config.loaded_app)
        if hook is not None and not self.force_exit:
            # Here, not in the event loop's teardown: there a call's tasks are cancelled all
            # at once and its pipeline never finishes; and the offline emulator is stopped
            # only after this returns.
            if await hook.end_live_calls("server shutting down"):
                self._arm_hard_deadline(hook, EXIT_MARGIN_S)
        await super().shutdown(sockets)


class DrainingProcess(Process):
    """A uvicorn worker process whose server drains on SIGTERM."""

    @property
    def server(self) -> uvicorn.Server:
        if self._server is None:
            self._server = DrainingServer(config=self.config)
        return self._server


class DrainingMultiprocess(Multiprocess):
    """uvicorn's process manager, starting (and restarting) draining workers. SIGTERM to the
    parent is passed to every worker, and the parent waits until each has drained."""

    def init_processes(self) -> None:
        for _ in range(self.processes_num):
            process = DrainingProcess(self.config, self.sockets)
            process.start()
            self.processes.append(process)

    def keep_subprocess_alive(self) -> None:
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()
            process.join()
            if process.exitcode == STARTUP_FAILURE:
                logger.error(f"worker {process.pid} failed to start; stopping")
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            logger.warning(f"worker {process.pid} died; starting a new one")
            process = DrainingProcess(self.config, self.sockets)
            process.start()
            self.processes[idx] = process

    def handle_hup(self) -> None:
        # uvicorn's rolling restart would start plain workers, which cut calls on exit.
        logger.warning("SIGHUP ignored: to replace workers, SIGTERM (drains) and start again")
