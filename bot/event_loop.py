"""Running a coroutine on uvloop where it is installed (not on Windows), else asyncio's loop.

uvloop's scheduling and socket I/O cost less per frame than asyncio's (~13 % less CPU per
call in bench/load); the telephony server and the load benchmark's harness both run on it.
"""

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_event_loop(main: Coroutine[Any, Any, T]) -> T:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)
