"""Parse what the bot sends back over the media stream into provider-neutral events."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.phone.audio import SAMPLE_RATE, alaw_decode, pcm16_decode, resample, ulaw_decode


@dataclass(frozen=True)
class BotAudio:
    samples: np.ndarray  # int16, 8 kHz


@dataclass(frozen=True)
class Clear:
    pass


@dataclass(frozen=True)
class Mark:
    """A Twilio/Telnyx/Exotel mark or a Plivo checkpoint, answered once played out."""

    name: str


@dataclass(frozen=True)
class Other:
    """A well-formed message the caller has no use for (kept for logging)."""

    event: str


InboundEvent = BotAudio | Clear | Mark | Other


class MalformedMessage(ValueError):
    """The server sent something a real provider would reject."""


def _payload(media: Any) -> bytes:
    if not isinstance(media, dict) or not isinstance(media.get("payload"), str):
        raise MalformedMessage("media message without a string media.payload")
    try:
        return base64.b64decode(media["payload"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedMessage(f"media payload is not base64: {exc}") from exc


def _plivo_audio(media: Any) -> np.ndarray:
    data = _payload(media)
    content_type = str(media.get("contentType", "audio/x-mulaw"))
    try:
        rate = int(media.get("sampleRate", SAMPLE_RATE))
    except (TypeError, ValueError) as exc:
        raise MalformedMessage(f"playAudio sampleRate is not a number: {exc}") from exc
    if "mulaw" in content_type:
        samples = ulaw_decode(data)
    elif "l16" in content_type:
        samples = pcm16_decode(data)
    else:
        raise MalformedMessage(f"playAudio contentType {content_type!r} is not supported")
    return resample(samples, rate, SAMPLE_RATE)


def parse_inbound(provider: str, raw: str | bytes, telnyx_encoding: str = "PCMU") -> InboundEvent:
    """Decode one server message; raises MalformedMessage instead of crashing the call."""
    if isinstance(raw, bytes):
        raise MalformedMessage(f"unexpected binary frame ({len(raw)} bytes)")
    try:
        msg = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise MalformedMessage(f"invalid JSON: {exc}: {raw[:80]!r}") from exc
    if not isinstance(msg, dict) or not isinstance(msg.get("event"), str):
        raise MalformedMessage(f"message without an event: {raw[:80]!r}")
    event = msg["event"]

    if provider == "plivo":
        if event == "playAudio":
            return BotAudio(_plivo_audio(msg.get("media")))
        if event == "clearAudio":
            return Clear()
        if event == "checkpoint":
            return Mark(str(msg.get("name", "")))
        return Other(event)

    if event == "media":
        data = _payload(msg.get("media"))
        if provider == "exotel":
            return BotAudio(pcm16_decode(data))
        if provider == "telnyx" and telnyx_encoding == "PCMA":
            return BotAudio(alaw_decode(data))
        return BotAudio(ulaw_decode(data))
    if event == "clear":
        return Clear()
    if event == "mark":
        mark = msg.get("mark")
        if not isinstance(mark, dict) or "name" not in mark:
            raise MalformedMessage("mark message without mark.name")
        return Mark(str(mark["name"]))
    return Other(event)
