"""The session every peer client plays against the emulator, and what it must hear.

Imports only ``sim`` and the standard library: each peer runs in its own environment
(.venv-peers/<group>) with the emulator installed as a package and none of the bot.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest

from sim.realtime import EmulatorConfig
from sim.realtime.client import clip_samples, silence
from sim.realtime.clips import manifest
from sim.realtime.script import FunctionCall, ScriptedTurn, Speech

CALLER_CLIP = "caller_order_status.wav"
CALLER_WORDS = manifest()["caller"][CALLER_CLIP]
AUDIO_REPLY = "Let me look that up for you."
TOOL_NAME = "get_order_status"
TOOL_ARGUMENTS = {"order_id": "A17"}
TOOL_REPLY = "Your parcel A17 arrives on Friday."
TOOL = {
    "type": "function",
    "name": TOOL_NAME,
    "description": "Look up an order by its id",
    "parameters": {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    },
}
# Turn 1 is spoken, turn 2 typed and answered with a tool round trip.
SCRIPT = EmulatorConfig(
    turns=[
        ScriptedTurn(user_turn=1, say=Speech(text=AUDIO_REPLY, clip="bot_reply_1.wav")),
        ScriptedTurn(
            user_turn=2,
            function_calls=[FunctionCall(name=TOOL_NAME, arguments=TOOL_ARGUMENTS)],
            say=Speech(text=TOOL_REPLY, clip="bot_reply_2.wav"),
        ),
    ],
)


def script(**overrides: object) -> dict:
    """The scripted session as keyword arguments for the ``make_emu`` fixture."""
    return {**SCRIPT.model_dump(exclude_defaults=True), **overrides}


def caller_turn(rate: int = 24000) -> np.ndarray:
    """The caller's spoken turn (with the silence that ends it) as int16 PCM at ``rate``."""
    fmt = {"type": "audio/pcm"} if rate == 24000 else {"type": "audio/pcmu"}
    samples = np.concatenate(
        [silence(300, fmt), clip_samples(CALLER_CLIP, fmt), silence(1200, fmt)]
    )
    return samples


def require(module: str, group: str) -> None:
    """Skip, saying why, where the peer's dependency group could not be installed."""
    if importlib.util.find_spec(module) is None:
        pytest.skip(
            f"{module} is not installed: `make test` runs this module in .venv-peers/{group} "
            f"(uv sync --project tests/peers --only-group {group}); that install failed or "
            "was not tried",
            allow_module_level=True,
        )


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def client_warnings(*loggers: str) -> Iterator[list[logging.LogRecord]]:
    """Every WARNING or worse the named client loggers emit inside the block."""
    handler = _Collect()
    targets = [logging.getLogger(name) for name in loggers]
    for target in targets:
        target.addHandler(handler)
    try:
        yield handler.records
    finally:
        for target in targets:
            target.removeHandler(handler)


def messages(records: list[logging.LogRecord]) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in records]
