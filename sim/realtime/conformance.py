"""Check server events against the GA ``openai`` types and, where installed, Pipecat's parser."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

# The real API sends these on the session object although the generated
# ``RealtimeSessionCreateRequest`` type does not declare them (pipecat's
# ``SessionProperties`` does).
ALLOWED_SESSION_EXTRAS = frozenset({"id", "object", "expires_at"})


@cache
def _adapter() -> TypeAdapter:
    from openai.types.realtime import RealtimeServerEvent

    return TypeAdapter(RealtimeServerEvent)


def unknown_fields(model: Any, path: str = "") -> list[str]:
    """Dotted paths of every key a pydantic model tree holds in ``model_extra``."""
    found: list[str] = []
    if isinstance(model, BaseModel):
        for key in (model.model_extra or {}).keys():
            found.append(f"{path}.{key}" if path else key)
        for name in type(model).model_fields:
            value = getattr(model, name, None)
            found.extend(unknown_fields(value, f"{path}.{name}" if path else name))
    elif isinstance(model, list | tuple):
        for i, value in enumerate(model):
            found.extend(unknown_fields(value, f"{path}[{i}]"))
    return found


def openai_problems(event: dict) -> list[str]:
    """Problems validating ``event`` as ``openai.types.realtime.RealtimeServerEvent``."""
    try:
        parsed = _adapter().validate_python(event)
    except ValidationError as exc:
        return [f"{event.get('type')}: {exc}"]
    extras = unknown_fields(parsed)
    if event.get("type") in ("session.created", "session.updated"):
        extras = [p for p in extras if p.removeprefix("session.") not in ALLOWED_SESSION_EXTRAS]
    return [f"{event.get('type')}: unknown field {p}" for p in extras]


@cache
def _pipecat_events() -> Any:
    """Pipecat's Realtime event models, or None where Pipecat is not installed (the
    emulator installed on its own, without the bot)."""
    try:
        from pipecat.services.openai.realtime import events
    except ImportError:
        return None
    return events


def pipecat_problems(event: dict) -> list[str]:
    """Problems Pipecat's parser has with ``event``. Pipecat models only the realtime
    sessions it can configure itself: a transcription session, or a session echoing a
    forced ``tool_choice`` (which Pipecat cannot send), is not its business."""
    events = _pipecat_events()
    session = event.get("session") or {}
    if events is None or not _pipecat_could_configure(session):
        return []
    try:
        events.parse_server_event(json.dumps(event))
    except Exception as exc:
        return [f"{event.get('type')}: pipecat rejects: {exc}"[:2000]]
    return []


def _pipecat_could_configure(session: dict) -> bool:
    return session.get("type") != "transcription" and not isinstance(
        session.get("tool_choice"), dict
    )


def event_problems(event: dict) -> list[str]:
    return openai_problems(event) + pipecat_problems(event)
