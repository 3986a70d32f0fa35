"""Per-profile tool settings (the ``tool_settings:`` key of a profile)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# E.164, or a SIP URI with a user part: the only shapes a provider can dial.
_E164_RE = re.compile(r"\+[1-9][0-9]{6,14}")
_SIP_RE = re.compile(r"sips?:[^\s<>@]+@[^\s<>]+")
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
    # The only places transfer_call may send a caller: name -> E.164 number or SIP URI.
    transfer_destinations: dict[str, str] = Field(default_factory=dict)
    farewell_guard: FarewellGuardSettings = Field(default_factory=FarewellGuardSettings)
    # LiveKit rooms: hang_up removes the phone caller's SIP participant (ends their call), or
    # only makes the bot leave the room.
    sip_hangup: Literal["remove_caller", "leave"] = "remove_caller"

    @field_validator("transfer_destinations")
    @classmethod
    def _check_destinations(cls, value: dict[str, str]) -> dict[str, str]:
        for name, target in value.items():
            if not _DESTINATION_NAME_RE.fullmatch(name):
                raise ValueError(
                    f"destination name {name!r} must be lower-case letters, digits, '_', '-' "
                    "or spaces (what the model says), at most 40 characters"
                )
            if not (_E164_RE.fullmatch(target) or _SIP_RE.fullmatch(target)):
                raise ValueError(
                    f"destination {name!r}: {target!r} is neither an E.164 number "
                    "(+15551234567) nor a SIP URI (sip:user@host)"
                )
        return value
