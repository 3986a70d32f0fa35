"""SIGTERM drains instead of cutting calls.

uvicorn's own shutdown closes every open WebSocket with 1012 at once, which hangs up live
phone calls. This server first runs the app's drain (readiness fails, new media streams are
refused with 1013, live calls finish up to a deadline) while still listening, and only then
lets uvicorn shut down. A second SIGINT still forces an immediate exit.
"""

import asyncio
import signal
from collections.abc import Awaitable, Callable
from types import FrameType

import uvicorn
from loguru import logger
from uvicorn.supervisors.multiprocess import STARTUP_FAILURE, Multiprocess, Process

DrainHook = Callable[[], Awaitable[None]]


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

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._drain_task is not None or self.should_exit:
            if sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True
            return
        hook = find_drain_hook(self.config.loaded_app)
        if hook is None:
            self.should_exit = True
            return
        logger.warning(f"{signal.Signals(sig).name} received: draining before exit")
        # A signal handler runs between bytecodes of the loop's thread: schedule, don't run.
        loop = asyncio.get_event_loop()
        self._drain_task = loop.create_task(self._drain_then_exit(hook))

    async def _drain_then_exit(self, hook: DrainHook) -> None:
        try:
            await hook()
        except Exception as e:
            logger.exception(f"drain failed: {e}")
        self.should_exit = True


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
