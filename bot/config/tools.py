"""Per-profile tool settings (the ``tool_settings:`` key of a profile)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# E.164, or a SIP URI with a user part: the only shapes a provider can dial. On Asterisk a
# target may also be a dialplan extension (an extension, queue or ring group number).
_E164_RE = re.compile(r"\+[1-9][0-9]{6,14}")
_SIP_RE = re.compile(r"sips?:[^\s<>@\"\\]+@[^\s<>\"\\]+")
_EXTENSION_RE = re.compile(r"[0-9*#]{1,20}")
# An Asterisk mailbox: box[@context] (app_voicemail's "2001@default").
_MAILBOX_RE = re.compile(r"[A-Za-z0-9_-]{1,40}(@[A-Za-z0-9_-]{1,40})?")
_DESTINATION_NAME_RE = re.compile(r"[a-z][a-z0-9_ -]{0,39}")

DEFAULT_FAREWELL_PHRASES = (
    "goodbye",
    "good bye",
    "bye",
    "have a great day",
    "have a nice day",
    "take care",
)


class FarewellGuardSettings(BaseModel):
    """Ends the call when the bot said goodbye but never called ``hangup_call``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    after_s: float = Field(default=4.0, gt=0, le=60)
    phrases: list[str] = Field(default_factory=lambda: list(DEFAULT_FAREWELL_PHRASES))

    @field_validator("phrases")
    @classmethod
    def _check_phrases(cls, value: list[str]) -> list[str]:
        cleaned = [" ".join(p.lower().split()) for p in value]
        if not cleaned or not all(cleaned):
            raise ValueError("needs at least one non-empty phrase")
        return cleaned


class ToolSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Seconds to wait for the farewell audio to start before hanging up without it.
    hangup_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # Longest farewell (or transfer announcement) waited for once it started.
    max_farewell_s: float = Field(default=30.0, gt=0, le=300)
    # The only places transfer_call may send a caller: name -> E.164 number, SIP URI or (on
    # Asterisk lines) a dialplan extension.
    transfer_destinations: dict[str, str] = Field(default_factory=dict)
    # Asterisk lines: the only mailboxes send_to_voicemail may use: name -> box[@context].
    voicemail: dict[str, str] = Field(default_factory=dict)
    farewell_guard: FarewellGuardSettings = Field(default_factory=FarewellGuardSettings)
    # LiveKit rooms: hang_up removes the phone caller's SIP participant (ends their call), or
    # only makes the bot leave the room.
    sip_hangup: Literal["remove_caller", "leave"] = "remove_caller"

    @field_validator("transfer_destinations")
    @classmethod
    def _check_destinations(cls, value: dict[str, str]) -> dict[str, str]:
        for name, target in value.items():
            _check_name(name)
            if not any(r.fullmatch(target) for r in (_E164_RE, _SIP_RE, _EXTENSION_RE)):
                raise ValueError(
                    f"destination {name!r}: {target!r} is neither an E.164 number "
                    "(+15551234567), a SIP URI (sip:user@host) nor an extension (2001)"
                )
        return value

    @field_validator("voicemail")
    @classmethod
    def _check_mailboxes(cls, value: dict[str, str]) -> dict[str, str]:
        for name, mailbox in value.items():
            _check_name(name)
            if not _MAILBOX_RE.fullmatch(mailbox):
                raise ValueError(f"voicemail {name!r}: {mailbox!r} is not a mailbox (2001@default)")
        return value


def _check_name(name: str) -> None:
    if not _DESTINATION_NAME_RE.fullmatch(name):
        raise ValueError(
            f"destination name {name!r} must be lower-case letters, digits, '_', '-' "
            "or spaces (what the model says), at most 40 characters"
        )
