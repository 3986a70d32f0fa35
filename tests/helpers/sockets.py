"""Small socket helpers shared by the tiers."""

import asyncio

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed


async def closed_by_server(ws: ClientConnection, within_s: float = 10.0) -> bool:
    """Reads (and drops) whatever comes until the server closes the socket; False if it is
    still open after ``within_s``."""
    try:
        async with asyncio.timeout(within_s):
            async for _ in ws:
                pass
    except ConnectionClosed:
        pass
    except TimeoutError:
        return False
    return True
