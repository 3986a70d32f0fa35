"""Caller details from call metadata, sanitised before they reach prompts or templates.

Everything here is attacker-controlled (caller ID name, SIP headers, custom parameters), so
values are reduced to a small character set and hard length limits. The sanitisers coerce or
drop; they never raise, so junk metadata cannot abort a call.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_NUMBER_LEN = 20
MAX_NAME_LEN = 40
MAX_CUSTOM_VALUE_LEN = 100
MAX_CUSTOM_ENTRIES = 16
_CUSTOM_KEY_RE = re.compile(r"[A-Za-z0-9_]{1,32}")
# Bound the work done on hostile megabyte-long inputs; far above any output limit.
_MAX_SCAN = 1000
_NAME_PUNCTUATION = frozenset(" .'-")
_ASCII_DIGITS = frozenset("0123456789")


def _as_text(value: object) -> str:
    """Coerce scalars to text; anything structured (lists, dicts, objects) becomes ""."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, str):
        return value[:_MAX_SCAN]
    if isinstance(value, bytes):
        return value[:_MAX_SCAN].decode("utf-8", errors="ignore")
    if isinstance(value, int | float):
        return str(value)
    return ""


def sanitize_number(value: object) -> str:
    """Keep a leading '+' and ASCII digits, at most 20 characters."""
    text = _as_text(value).strip()
    # SIP URIs ("sip:+1555...@10.0.0.1") would otherwise leak the host's digits into the number.
    text = text.split("@", 1)[0]
    for prefix in ("sip:", "sips:", "tel:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].strip()
    digits = "".join(ch for ch in text if ch in _ASCII_DIGITS)
    if not digits:
        return ""
    plus = "+" if text.startswith("+") else ""
    return (plus + digits)[:MAX_NUMBER_LEN]


def sanitize_text(value: object, max_len: int = MAX_NAME_LEN) -> str:
    """Letters, digits, space and . ' - only; whitespace collapsed; at most ``max_len`` chars."""
    # NFKC folds look-alikes (fullwidth braces, ligatures) so the filter below sees them plainly.
    text = unicodedata.normalize("NFKC", _as_text(value))
    kept: list[str] = []
    for ch in text:
        if ch.isspace():
            kept.append(" ")
        elif ch.isalnum() or ch in _NAME_PUNCTUATION:
            kept.append(ch)
    collapsed = " ".join("".join(kept).split())
    return collapsed[:max_len].rstrip()


def sanitize_custom(value: object) -> dict[str, str]:
    """At most 16 entries with keys [A-Za-z0-9_]{1,32} and sanitised scalar values."""
    if not isinstance(value, dict):
        return {}
    result: dict[str, str] = {}
    for key, raw in value.items():
        if len(result) >= MAX_CUSTOM_ENTRIES:
            break
        if not isinstance(key, str) or not _CUSTOM_KEY_RE.fullmatch(key):
            continue
        if raw is None or not isinstance(raw, str | bytes | int | float | bool):
            continue
        text = str(raw).lower() if isinstance(raw, bool) else raw
        result[key] = sanitize_text(text, MAX_CUSTOM_VALUE_LEN)
    return result


class CallerInfo(BaseModel):
    """Sanitised caller details; construction always sanitises, whatever the entry point."""

    model_config = ConfigDict(frozen=True)

    number: str = ""
    name: str = ""
    called_number: str = ""
    custom: dict[str, str] = Field(default_factory=dict)

    @field_validator("number", "called_number", mode="before")
    @classmethod
    def _clean_number(cls, value: Any) -> str:
        return sanitize_number(value)

    @field_validator("name", mode="before")
    @classmethod
    def _clean_name(cls, value: Any) -> str:
        return sanitize_text(value, MAX_NAME_LEN)

    @field_validator("custom", mode="before")
    @classmethod
    def _clean_custom(cls, value: Any) -> dict[str, str]:
        return sanitize_custom(value)

    @classmethod
    def from_untrusted(
        cls,
        *,
        number: object = None,
        name: object = None,
        called_number: object = None,
        custom: object = None,
    ) -> CallerInfo:
        """Build from raw call metadata; never raises on junk input, it coerces or drops."""
        return cls(
            number=sanitize_number(number),
            name=sanitize_text(name, MAX_NAME_LEN),
            called_number=sanitize_number(called_number),
            custom=sanitize_custom(custom),
        )


MAX_ARGUMENT_TEXT = 500
MAX_ARGUMENT_ITEMS = 32
MAX_ARGUMENT_DEPTH = 4


def bounded_arguments(value: object, depth: int = 0) -> Any:
    """Tool-call arguments (model output steered by the caller) cut to a size fit to log and
    record: strings to 500 characters, containers to 32 items and 4 levels."""
    if isinstance(value, str):
        return value[:MAX_ARGUMENT_TEXT]
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= MAX_ARGUMENT_DEPTH:
        return "…"
    if isinstance(value, dict):
        items = list(value.items())[:MAX_ARGUMENT_ITEMS]
        return {str(k)[:64]: bounded_arguments(v, depth + 1) for k, v in items}
    if isinstance(value, list | tuple):
        return [bounded_arguments(v, depth + 1) for v in list(value)[:MAX_ARGUMENT_ITEMS]]
    return str(value)[:MAX_ARGUMENT_TEXT]
