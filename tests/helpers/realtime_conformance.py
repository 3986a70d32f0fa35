"""What every Realtime server event must be, checked independently of the emulator's own
strict mode: a GA type, no unknown fields, parsed by Pipecat."""

from __future__ import annotations

import json

from openai.types.realtime import RealtimeServerEvent
from pipecat.services.openai.realtime import events as pc_events
from pydantic import BaseModel, TypeAdapter

ADAPTER = TypeAdapter(RealtimeServerEvent)
SESSION_EXTRAS = {"session.id", "session.object", "session.expires_at"}


def _extras(model: object, path: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(model, BaseModel):
        out += [f"{path}.{k}" if path else k for k in (model.model_extra or {})]
        for name in type(model).model_fields:
            out += _extras(getattr(model, name), f"{path}.{name}" if path else name)
    elif isinstance(model, list):
        for i, v in enumerate(model):
            out += _extras(v, f"{path}[{i}]")
    return out


def assert_conforming(events: list[dict], pipecat: bool = True) -> None:
    """Independent of the emulator's strict mode: GA types, no unknown fields, pipecat parse
    (``pipecat=False`` for sessions Pipecat cannot configure: transcription, a forced
    tool_choice)."""
    assert events
    for event in events:
        parsed = ADAPTER.validate_python(event)
        extras = set(_extras(parsed))
        if event["type"] in ("session.created", "session.updated"):
            extras -= SESSION_EXTRAS
        assert not extras, (event["type"], extras)
        if pipecat:
            pc_events.parse_server_event(json.dumps(event))
