"""chan_websocket's control messages: the events Asterisk sends and the commands it reads.

Everything here is transcribed from channels/chan_websocket.c (asterisk/asterisk master,
Aug 2026; the JSON format and MARK_MEDIA since 20.18/22.8/23.2):

* events are built by the ``_create_event_*`` functions; plain-text ones are
  ``NAME key:value key:value`` with no quoting, JSON ones are compact objects
  (``ast_json_dump_string_format(..., AST_JSON_COMPACT)``) that always carry
  ``channel_id`` (the channel's uniqueid) after ``event``;
* commands go through process_text_message() → handle_command(): an empty TEXT frame and one
  longer than ``MAX_TEXT_MESSAGE_LEN`` (``MIN(128, AST_WEBSOCKET_MAX_RX_PAYLOAD_SIZE - 1)``
  = 128 bytes) are dropped with only a log warning; the text is whitespace-stripped
  (ast_strip); in plain-text the command is the first word and ``data`` the rest after the
  first space; in JSON the command is the ``command`` string member and an unparsable text
  gets ``ERROR ... Unable to parse JSON command``; an unknown command is only logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_TEXT_MESSAGE_LEN = 128


class ControlFormat(StrEnum):
    """chan_websocket.conf ``control_message_format`` / the dial string's ``f()`` option."""

    PLAIN = "plain-text"
    JSON = "json"


@dataclass(frozen=True)
class Event:
    """One event Asterisk sends; ``fields`` in the order Asterisk prints them."""

    name: str
    fields: dict[str, Any] = field(default_factory=dict)


def render(event: Event, fmt: ControlFormat, channel_id: str) -> str:
    """The TEXT frame Asterisk sends for ``event`` on a channel whose uniqueid is
    ``channel_id``."""
    if fmt is ControlFormat.JSON:
        body: dict[str, Any] = {"event": event.name}
        if event.name == "MEDIA_START":
            # _create_event_MEDIA_START: connection_id and channel come before channel_id.
            body["connection_id"] = event.fields["connection_id"]
            body["channel"] = event.fields["channel"]
        body["channel_id"] = channel_id
        body.update(
            {k: v for k, v in event.fields.items() if k not in ("connection_id", "channel")}
        )
        return json.dumps(body, separators=(",", ":"))
    return _render_plain(event, channel_id)


def _render_plain(event: Event, channel_id: str) -> str:
    f = event.fields
    if event.name == "MEDIA_START":
        return (
            f"MEDIA_START connection_id:{f['connection_id']} channel:{f['channel']} "
            f"channel_id:{channel_id} format:{f['format']} "
            f"optimal_frame_size:{f['optimal_frame_size']} ptime:{f['ptime']}"
        )
    if event.name in ("MEDIA_MARK_PROCESSED", "MEDIA_BUFFERING_COMPLETED"):
        # "%s%s%s" with S_COR(id, " ", ""): a space and the id only when an id was given.
        ident = f.get("correlation_id")
        return event.name if ident is None else f"{event.name} {ident}"
    if event.name == "DTMF_END":
        return f"DTMF_END digit:{f['digit']} channel_id:{channel_id}"
    if event.name == "STATUS":

        def flag(key: str) -> str:
            return "true" if f[key] else "false"

        return (
            f"STATUS channel_id:{channel_id} queue_length:{f['queue_length']} "
            f"xon_level:{f['xon_level']} xoff_level:{f['xoff_level']} "
            f"queue_full:{flag('queue_full')} bulk_media:{flag('bulk_media')} "
            f"media_paused:{flag('media_paused')}"
        )
    if event.name == "ERROR":
        return f"ERROR channel_id:{channel_id} error_text:{f['error_text']}"
    return event.name  # MEDIA_XON, MEDIA_XOFF, QUEUE_DRAINED: _create_event_nodata


def mark_processed(correlation_id: str | None, fmt: ControlFormat) -> Event:
    """MEDIA_MARK_PROCESSED; JSON always has ``correlation_id`` (``S_OR(id, "")``)."""
    ident = correlation_id if fmt is ControlFormat.PLAIN else (correlation_id or "")
    return Event("MEDIA_MARK_PROCESSED", {"correlation_id": ident})


def buffering_completed(correlation_id: str | None, fmt: ControlFormat) -> Event:
    ident = correlation_id if fmt is ControlFormat.PLAIN else (correlation_id or "")
    return Event("MEDIA_BUFFERING_COMPLETED", {"correlation_id": ident})


def error(text: str) -> Event:
    return Event("ERROR", {"error_text": text})


@dataclass(frozen=True)
class Command:
    """One command from the bot. ``name`` is None when a JSON object has no string
    ``command``; ``data`` is the plain-text argument (after the first space)."""

    name: str | None
    data: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    is_json: bool = False

    def string(self, key: str) -> str | None:
        """ast_json_object_string_get: the member when it is a JSON string, else None."""
        value = self.fields.get(key)
        return value if isinstance(value, str) else None

    @property
    def correlation_id(self) -> str | None:
        return self.string("correlation_id") if self.is_json else self.data


@dataclass(frozen=True)
class Rejected:
    """A TEXT frame Asterisk does not act on. ``reply`` is the ERROR it sends, if any."""

    reason: str
    reply: Event | None = None


def parse_command(payload: str, fmt: ControlFormat) -> Command | Rejected:
    """Read one TEXT frame as process_text_message()/handle_command() do."""
    size = len(payload.encode("utf-8"))
    if size == 0:
        return Rejected("empty TEXT message")
    if size > MAX_TEXT_MESSAGE_LEN:
        return Rejected(f"TEXT message of {size} bytes exceeds {MAX_TEXT_MESSAGE_LEN}")
    text = payload.strip()
    if fmt is ControlFormat.JSON:
        try:
            parsed = json.loads(text)
        except ValueError:
            return Rejected("unparsable JSON command", error("Unable to parse JSON command"))
        members = parsed if isinstance(parsed, dict) else {}
        name = members.get("command")
        return Command(name if isinstance(name, str) else None, fields=members, is_json=True)
    name, sep, data = text.partition(" ")
    return Command(name, data if sep else None)
