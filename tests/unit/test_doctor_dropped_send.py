"""`runner.py check` when the socket drops under a send: a one-line cause, not a traceback
(it was seen once under load: the drop landed in `ws.send` instead of `ws.recv`)."""

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.frames import Close

from bot.realtime import doctor
from bot.realtime.doctor import CheckTarget, run_check


class SocketDroppingOnSend:
    """A Realtime socket that answers the handshake events, then drops when sent `drop_on`."""

    def __init__(self, drop_on: str) -> None:
        self.drop_on = drop_on
        self.dropped = False
        self.inbox: asyncio.Queue[str] = asyncio.Queue()
        self.inbox.put_nowait(json.dumps({"type": "session.created", "session": {"id": "s1"}}))

    async def send(self, message: str) -> None:
        event = json.loads(message)
        if event["type"] == self.drop_on:
            self.dropped = True
            raise ConnectionClosedError(Close(1011, "gone"), None)
        if event["type"] == "session.update":
            await self.inbox.put(json.dumps({"type": "session.updated", "session": {}}))

    async def recv(self) -> str:
        if self.dropped and self.inbox.empty():
            raise ConnectionClosedError(Close(1011, "gone"), None)
        return await self.inbox.get()

    async def close(self) -> None:
        pass


@pytest.mark.parametrize(
    ("drop_on", "cause"),
    [
        ("session.update", "connection closed (code 1011) while sending session.update"),
        ("response.create", "connection closed (code 1011) while sending response.create"),
    ],
)
async def test_a_socket_dropping_under_a_send_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, drop_on: str, cause: str
) -> None:
    listener = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]

    async def fake_connect(*args: object, **kwargs: object) -> SocketDroppingOnSend:
        return SocketDroppingOnSend(drop_on)

    monkeypatch.setattr(doctor, "connect", fake_connect)
    lines: list[str] = []
    try:
        target = CheckTarget(f"ws://127.0.0.1:{port}", "sk-test", "m")
        failure = await run_check(target, lines.append)
    finally:
        listener.close()
    assert failure == cause
    assert lines[-1].startswith("FAIL") and cause in lines[-1]
