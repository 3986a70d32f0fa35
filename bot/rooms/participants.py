"""Who is in a LiveKit room: humans to talk to, agents to ignore, and phone callers.

Works on anything shaped like `livekit.rtc.RemoteParticipant` (identity, name, kind,
attributes), so the same rules apply to the server API's `ParticipantInfo`.
"""

from __future__ import annotations

from typing import Any, Protocol

from livekit import rtc

from bot.config.caller_info import CallerInfo
from bot.rooms.livekit_tokens import AGENT_IDENTITY_PREFIX, BOT_ATTRIBUTE

# LiveKit Agents names its workers "agent-…" and sets lk.agent.* attributes; ours are voicebot-.
AGENT_IDENTITY_PREFIXES = (AGENT_IDENTITY_PREFIX, "agent-")
AGENT_ATTRIBUTE_PREFIXES = (BOT_ATTRIBUTE, "lk.agent.")
# ParticipantInfo.Kind in the server API and rtc.ParticipantKind share these numbers.
AGENT_KIND = rtc.ParticipantKind.PARTICIPANT_KIND_AGENT
SIP_KIND = rtc.ParticipantKind.PARTICIPANT_KIND_SIP


class ParticipantLike(Protocol):
    identity: str
    name: str
    kind: Any
    attributes: Any


def is_agent(participant: ParticipantLike) -> bool:
    if participant.kind == AGENT_KIND:
        return True
    if participant.identity.startswith(AGENT_IDENTITY_PREFIXES):
        return True
    return any(key.startswith(AGENT_ATTRIBUTE_PREFIXES) for key in participant.attributes or {})


def caller_from_participant(participant: ParticipantLike) -> CallerInfo:
    """Caller details for the greeting and the record; SIP participants carry the phone
    numbers as attributes (`sip.phoneNumber` is the caller, `sip.trunkPhoneNumber` the
    number they dialled). Everything is sanitised by CallerInfo."""
    attributes = dict(participant.attributes or {})
    custom = {"participant_identity": participant.identity}
    if participant.kind == SIP_KIND:
        custom["sip_call_id"] = attributes.get("sip.callID", "")
        return CallerInfo.from_untrusted(
            number=attributes.get("sip.phoneNumber"),
            name=participant.name or attributes.get("sip.displayName"),
            called_number=attributes.get("sip.trunkPhoneNumber"),
            custom=custom,
        )
    # An identity is often a generated id ("user-8f3c"): never read it out as a name.
    return CallerInfo.from_untrusted(name=participant.name, custom=custom)
