"""The telephony server running inside the test's event loop (uvicorn on a free port), so a
test can set any Settings and look at the server's state and log lines directly."""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field

import uvicorn
from loguru import logger

from bot.call.call import RealtimeEndpoint
from bot.config.profiles import load_profile
from bot.config.settings import Settings
from bot.telephony.server import TelephonyConfig, TelephonyServer
from sim.bot_process import free_port


@dataclass
class InProcessServer:
    server: TelephonyServer
    port: int
    log: list[str] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return "\n".join(self.log)


@asynccontextmanager
async def serve_inprocess(
    settings: Settings,
    realtime_url: str,
    provider: str = "twilio",
    log_level: str = "INFO",
    extend: Callable[[TelephonyServer], AbstractAsyncContextManager] | None = None,
) -> AsyncIterator[InProcessServer]:
    """`extend` adds to the server before it serves, for as long as it serves (e.g.
    bot.asterisk.lines.AsteriskLines)."""
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(str(m)), level=log_level)
    try:
        server = TelephonyServer(
            TelephonyConfig(
                provider=provider,
                profile=load_profile("default"),
                settings=settings,
                realtime=RealtimeEndpoint(url=realtime_url, api_key="sk-inprocess-test"),
            )
        )
        port = free_port()
        extension = extend(server) if extend else nullcontext()
        http = uvicorn.Server(
            uvicorn.Config(
                server.app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                lifespan="off",
                ws_max_size=4 * settings.max_message_bytes,
                ws_per_message_deflate=False,
            )
        )
        async with extension:
            serving = asyncio.create_task(http.serve())
            async with asyncio.timeout(10):
                while not http.started:  # noqa: ASYNC110 - uvicorn offers no start event
                    await asyncio.sleep(0.02)
            try:
                yield InProcessServer(server, port, lines)
            finally:
                http.should_exit = True
                await serving
    finally:
        logger.remove(sink)
