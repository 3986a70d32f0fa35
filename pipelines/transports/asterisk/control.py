"""chan_websocket's control messages, the bot's side: Asterisk's events in, commands out.

Control messages are TEXT frames, media BINARY frames. A call speaks one of two formats
(chan_websocket.conf `control_message_format`, or the dial string's `f()`): plain text,
`NAME key:value key:value` with no quoting, or JSON (20.18 / 22.8 / 23.2+), `{"event":
"NAME", "channel_id": …, …}` in, `{"command": "NAME", …}` out. The bot answers in the
format MEDIA_START came in.

Asterisk reads a command of at most 128 bytes (`MAX_TEXT_MESSAGE_LEN`) and drops a longer
one with only a log line, so every command is checked against that here. Its own events
after MEDIA_START are short too (the longest, ERROR, ~100 bytes; STATUS, longer, only
answers GET_STATUS, which the bot never sends), so the bot holds them to the same limit: a
longer TEXT frame, an unknown event, or non-JSON in a JSON call is not Asterisk speaking,
and ends the call (`AsteriskProtocolError`).

Older releases (20.16 / 21.x / 22.6 / 23.0) print MEDIA_START and DTMF_END without
`channel_id`; nothing here needs it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

MAX_TEXT_MESSAGE_LEN = 128
MAX_ID_LEN = 150  # AST_MAX_UNIQUEID
EVENTS = frozenset(
    {
        "MEDIA_START",
        "DTMF_END",
        "MEDIA_XOFF",
        "MEDIA_XON",
        "QUEUE_DRAINED",
        "MEDIA_MARK_PROCESSED",
        "MEDIA_BUFFERING_COMPLETED",
        "STATUS",
        "ERROR",
    }
)
# Events whose plain-text argument is the bare correlation id, not key:value pairs.
_ID_EVENTS = ("MEDIA_MARK_PROCESSED", "MEDIA_BUFFERING_COMPLETED")


class AsteriskProtocolError(Exception):
    """The line sent something Asterisk does not send; the message is the one-line reason."""


class ControlFormat(StrEnum):
    PLAIN = "plain-text"
    JSON = "json"


@dataclass(frozen=True)
class Event:
    name: str
    fields: dict[str, Any] = field(default_factory=dict)

    def text(self, key: str) -> str:
        value = self.fields.get(key)
        return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class MediaStart:
    """The first message of a call: which channel, which format, how big a frame is."""

    connection_id: str
    channel: str
    channel_id: str
    format: str
    optimal_frame_size: int
    ptime: int
    control_format: ControlFormat
    channel_variables: dict[str, str] = field(default_factory=dict)


def detect_format(text: str) -> ControlFormat:
    return ControlFormat.JSON if text.lstrip().startswith("{") else ControlFormat.PLAIN


def _size(text: str) -> int:
    return len(text.encode("utf-8", errors="replace"))


def parse_event(text: str, fmt: ControlFormat, max_bytes: int = MAX_TEXT_MESSAGE_LEN) -> Event:
    """One TEXT frame from Asterisk; raises AsteriskProtocolError with the reason."""
    # Characters first: a huge string is refused without encoding it.
    size = len(text) if len(text) > max_bytes else _size(text)
    if size > max_bytes:
        raise AsteriskProtocolError(f"control message of {size} bytes exceeds {max_bytes}")
    return _parse_json(text) if fmt is ControlFormat.JSON else _parse_plain(text.strip())


def _known(name: str) -> str:
    if name not in EVENTS:
        raise AsteriskProtocolError(f"unknown chan_websocket event {name[:40]!r}")
    return name


def _parse_json(text: str) -> Event:
    try:
        message = json.loads(text)
    except ValueError as e:
        raise AsteriskProtocolError(f"non-JSON control message ({getattr(e, 'msg', e)})") from None
    if not isinstance(message, dict):
        kind = type(message).__name__
        raise AsteriskProtocolError(f"control message is a JSON {kind}, not an object")
    name = message.get("event")
    if not isinstance(name, str):
        raise AsteriskProtocolError("JSON control message without a string 'event'")
    return Event(_known(name), {k: v for k, v in message.items() if k != "event"})


def _parse_plain(text: str) -> Event:
    name, _, rest = text.partition(" ")
    if _known(name) in _ID_EVENTS:
        return Event(name, {"correlation_id": rest})
    fields: dict[str, Any] = {}
    if name == "ERROR":
        # error_text is free text with spaces: everything after its key.
        head, sep, error_text = rest.partition("error_text:")
        rest = head
        if sep:
            fields["error_text"] = error_text
    for token in rest.split():
        key, sep, value = token.partition(":")
        if not sep or not key:
            raise AsteriskProtocolError(f"{name[:40]}: malformed field {token[:40]!r}")
        fields[key] = value
    return Event(name, fields)


def render_command(name: str, fmt: ControlFormat, correlation_id: str | None = None) -> str:
    """One command as Asterisk reads it; never longer than Asterisk's 128-byte limit."""
    if fmt is ControlFormat.JSON:
        body: dict[str, str] = {"command": name}
        if correlation_id is not None:
            body["correlation_id"] = correlation_id
        text = json.dumps(body, separators=(",", ":"))
    else:
        text = name if correlation_id is None else f"{name} {correlation_id}"
    if _size(text) > MAX_TEXT_MESSAGE_LEN:
        raise ValueError(f"{name}: command of {_size(text)} bytes; Asterisk would drop it")
    return text


def _short_id(value: object, key: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LEN:
        raise AsteriskProtocolError(f"MEDIA_START without a valid {key}")
    return value


def _positive_int(value: object, key: str) -> int:
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or not 0 < int(text) <= 100_000:
        raise AsteriskProtocolError(f"MEDIA_START with a bad {key} {str(value)[:20]!r}")
    return int(text)


def parse_media_start(text: str, max_bytes: int) -> MediaStart:
    """The first TEXT frame of a call, in either format; raises AsteriskProtocolError."""
    fmt = detect_format(text)
    event = parse_event(text, fmt, max_bytes)
    if event.name != "MEDIA_START":
        raise AsteriskProtocolError(f"expected MEDIA_START first, got {event.name}")
    f = event.fields
    variables = f.get("channel_variables") or {}
    if not isinstance(variables, dict):
        raise AsteriskProtocolError("MEDIA_START channel_variables is not an object")
    return MediaStart(
        connection_id=_short_id(f.get("connection_id"), "connection_id"),
        channel=_short_id(f.get("channel"), "channel"),
        # Missing before 20.17 / 22.7 / 23.1 (and in all of 21): the channel name stands in.
        channel_id=_short_id(f.get("channel_id") or f.get("channel"), "channel_id"),
        format=_short_id(f.get("format"), "format"),
        optimal_frame_size=_positive_int(f.get("optimal_frame_size"), "optimal_frame_size"),
        ptime=_positive_int(f.get("ptime", 20), "ptime"),
        control_format=fmt,
        channel_variables={
            str(k)[:64]: v for k, v in list(variables.items())[:64] if isinstance(v, str)
        },
    )
