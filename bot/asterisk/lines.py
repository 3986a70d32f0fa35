"""The Asterisk lines on the telephony server: `WS /asterisk` (chan_websocket) or the
AudioSocket listener, and the FastAGI server both use.

They ride on the same `TelephonyServer` as the provider lines — the same `/health`,
`/ready`, `/metrics`, MAX_CONCURRENT_CALLS, drain and call records — so only what Asterisk
needs beyond them lives here. One process only: the FastAGI `after` answer comes from the
process that ran the call, so `--workers` above 1 is refused for these transports.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType

from loguru import logger

from bot.asterisk.agi_server import AGI_PORT, AgiServer
from bot.asterisk.audiosocket_server import AUDIOSOCKET_PORT, AudioSocketListener
from bot.asterisk.calls import CallDirectory
from bot.asterisk.websocket_endpoint import ChanWebSocketEndpoint
from bot.telephony.server import TelephonyServer

ASTERISK_TRANSPORTS = ("asterisk", "audiosocket")
WEBSOCKET_PATH = "/asterisk"


@dataclass(frozen=True)
class AsteriskOptions:
    audiosocket_host: str = "0.0.0.0"
    audiosocket_port: int = AUDIOSOCKET_PORT
    agi_host: str = "127.0.0.1"
    agi_port: int = AGI_PORT


class AsteriskLines:
    """`async with AsteriskLines(server, options):` serves Asterisk for as long as the block."""

    def __init__(self, server: TelephonyServer, options: AsteriskOptions) -> None:
        self.transport = server.config.provider
        if self.transport not in ASTERISK_TRANSPORTS:
            raise ValueError(f"not an Asterisk transport: {self.transport}")
        self.directory = CallDirectory()
        secret = server.config.settings.asterisk_agi_secret
        self.agi = AgiServer(
            self.directory,
            host=options.agi_host,
            port=options.agi_port,
            secret=secret.get_secret_value() if secret else None,
        )
        self.audiosocket: AudioSocketListener | None = None
        if self.transport == "audiosocket":
            self.audiosocket = AudioSocketListener(
                server, self.directory, options.audiosocket_host, options.audiosocket_port
            )
        else:
            endpoint = ChanWebSocketEndpoint(server, self.directory)
            server.app.add_api_websocket_route(WEBSOCKET_PATH, endpoint)

    async def __aenter__(self) -> AsteriskLines:
        await self.agi.start()
        if self.audiosocket is not None:
            await self.audiosocket.start()
            where = f"AudioSocket on {self.audiosocket.host}:{self.audiosocket.port}"
        else:
            where = f"chan_websocket on WS {WEBSOCKET_PATH} (subprotocol media)"
        secret = "with" if self.agi.requires_secret else "without"
        agi = f"FastAGI on {self.agi.host}:{self.agi.port} {secret} secret"
        logger.info(f"asterisk: {where}; {agi}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.audiosocket is not None:
            await self.audiosocket.stop()
        await self.agi.stop()
