"""AudioSocket rides Pipecat's FastAPI WebSocket transport through `StreamWebSocket`. That
holds only while the adapter has every member Pipecat's client uses on its socket: this
reads them from the installed Pipecat, so an upgrade that starts using another one fails
here by name instead of ending every AudioSocket call as a silent hang-up."""

import ast
import asyncio
import inspect

import pipecat.transports.websocket.fastapi as pipecat_fastapi

from pipelines.transports.asterisk.audiosocket import message
from pipelines.transports.asterisk.stream_socket import StreamWebSocket

_USERS = ("FastAPIWebsocketClient", "_WebSocketMessageIterator")


def socket_members_pipecat_uses() -> set[str]:
    tree = ast.parse(inspect.getsource(pipecat_fastapi))
    used: set[str] = set()
    for cls in (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name in _USERS):
        for node in ast.walk(cls):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "_websocket"
            ):
                used.add(node.attr)
    return used


def test_the_adapter_has_every_socket_member_pipecats_client_uses():
    used = socket_members_pipecat_uses()
    assert {"receive", "send_bytes", "close", "client_state"} <= used  # the scan still works
    adapter = StreamWebSocket(None, None, ())  # type: ignore[arg-type]
    missing = sorted(name for name in used if not hasattr(adapter, name))
    assert missing == [], f"StreamWebSocket lacks {missing}, which Pipecat's client now uses"


async def test_receive_yields_pending_messages_then_the_stream_then_a_disconnect():
    reader = asyncio.StreamReader()
    reader.feed_data(message(0x10, b"\x01\x00"))
    reader.feed_eof()
    socket = StreamWebSocket(reader, None, [b"\x10ab"])  # type: ignore[arg-type]
    assert (await socket.receive())["bytes"] == b"\x10ab"
    assert (await socket.receive())["bytes"] == b"\x10\x01\x00"
    assert (await socket.receive())["type"] == "websocket.disconnect"
    assert socket.client_state.name == "DISCONNECTED"
