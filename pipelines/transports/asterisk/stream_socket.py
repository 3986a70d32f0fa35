"""An AudioSocket TCP connection, dressed as the socket Pipecat's FastAPI transport reads.

Why not a transport of its own: Pipecat's WebSocket transport (with our `LineTransport`
on top: caller audio pushed from the receive loop, the write deadline, client connect /
disconnect events the call greets and ends on) only needs `receive()` to yield one message
at a time and `send_bytes()` / `close()` to act. An AudioSocket stream is a sequence of
messages too, so this adapter gives the same path to both Asterisk lines, and to the
phone lines before them, instead of a second input/output pair to keep in step.

Each `receive()` is one AudioSocket message (kind byte + payload; the length is framing),
as `pipelines.transports.asterisk.audiosocket.read_message` reads it. Messages the server
read before the call was built (the first audio, which fixes the rate) are handed out first.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Iterable
from typing import Any

from starlette.datastructures import Headers
from starlette.websockets import WebSocketState

from pipelines.transports.asterisk.audiosocket import read_message


class StreamWebSocket:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        pending: Iterable[bytes] = (),
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._pending = deque(pending)
        self.client_state = WebSocketState.CONNECTED
        self.application_state = WebSocketState.CONNECTED
        self.headers = Headers()  # read only when origins are checked; lines never are

    async def receive(self) -> dict[str, Any]:
        if self._pending:
            return {"type": "websocket.receive", "bytes": self._pending.popleft()}
        try:
            data = await read_message(self._reader)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self.client_state = WebSocketState.DISCONNECTED
            return {"type": "websocket.disconnect", "code": 1000}
        return {"type": "websocket.receive", "bytes": data}

    async def send_bytes(self, data: bytes) -> None:
        try:
            self._writer.write(data)
            await self._writer.drain()
        except (ConnectionError, OSError):
            self.client_state = WebSocketState.DISCONNECTED
            raise

    async def send_text(self, data: str) -> None:
        raise TypeError("AudioSocket carries no text messages")

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        if self.application_state == WebSocketState.DISCONNECTED:
            return
        self.application_state = WebSocketState.DISCONNECTED
        self.client_state = WebSocketState.DISCONNECTED
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()
