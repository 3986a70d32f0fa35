"""Messages the simulated phone network sends to the bot, one class per provider.

Shapes follow each provider's documented media-stream protocol field for field
(sequence numbers, chunk counters, timestamps), and the start messages must be
recognised by pipecat.runner.utils._detect_transport_type_from_message.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.phone.audio import FRAME_S, ulaw_encode

PROVIDERS = ("twilio", "telnyx", "plivo", "exotel")


@dataclass
class CallIdentity:
    """Who is calling whom, plus free-form parameters the provider forwards."""

    caller_number: str = "+15551230000"
    called_number: str = "+15559870000"
    caller_name: str | None = None
    custom_parameters: dict[str, str] = field(default_factory=dict)
    # The provider's call id, when a webhook answer (and its stream token) is bound to it.
    call_sid: str | None = None

    def forwarded_params(self) -> dict[str, str]:
        """Custom params plus caller info, for providers whose start has no from/to."""
        params = {"from_number": self.caller_number, "to_number": self.called_number}
        if self.caller_name:
            params["caller_name"] = self.caller_name
        params.update(self.custom_parameters)
        return params


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


class ProviderProtocol:
    """Base: counters shared by all providers; subclasses shape the JSON."""

    name = ""

    def __init__(self, identity: CallIdentity) -> None:
        self.identity = identity
        self.call_sid = ""
        self.stream_sid = ""
        self._seq = 0
        self._chunk = 0

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _next_chunk(self) -> tuple[int, int]:
        """(1-based chunk counter, ms since stream start of this frame)."""
        self._chunk += 1
        return self._chunk, round((self._chunk - 1) * FRAME_S * 1000)

    def handshake(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def media(self, samples: np.ndarray) -> dict[str, Any]:
        raise NotImplementedError

    def dtmf(self, digit: str) -> dict[str, Any]:
        raise NotImplementedError

    def stop(self) -> dict[str, Any]:
        raise NotImplementedError

    def mark_reply(self, name: str) -> dict[str, Any] | None:
        """Acknowledgement once playback reaches a mark/checkpoint the bot sent."""
        return None

    def clear_reply(self) -> dict[str, Any] | None:
        """Acknowledgement of a clear, for providers that send one."""
        return None


class TwilioProtocol(ProviderProtocol):
    name = "twilio"

    def __init__(self, identity: CallIdentity) -> None:
        super().__init__(identity)
        self.account_sid = "AC" + uuid.uuid4().hex
        self.call_sid = identity.call_sid or _sid("CA")
        self.stream_sid = _sid("MZ")

    def handshake(self) -> list[dict[str, Any]]:
        connected = {"event": "connected", "protocol": "Call", "version": "1.0.0"}
        start = {
            "event": "start",
            "sequenceNumber": str(self._next_seq()),
            "start": {
                "accountSid": self.account_sid,
                "streamSid": self.stream_sid,
                "callSid": self.call_sid,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
                "customParameters": self.identity.forwarded_params(),
            },
            "streamSid": self.stream_sid,
        }
        return [connected, start]

    def media(self, samples: np.ndarray) -> dict[str, Any]:
        chunk, ts = self._next_chunk()
        return {
            "event": "media",
            "sequenceNumber": str(self._next_seq()),
            "media": {
                "track": "inbound",
                "chunk": str(chunk),
                "timestamp": str(ts),
                "payload": _b64(ulaw_encode(samples)),
            },
            "streamSid": self.stream_sid,
        }

    def dtmf(self, digit: str) -> dict[str, Any]:
        return {
            "event": "dtmf",
            "streamSid": self.stream_sid,
            "sequenceNumber": str(self._next_seq()),
            "dtmf": {"track": "inbound_track", "digit": digit},
        }

    def stop(self) -> dict[str, Any]:
        return {
            "event": "stop",
            "sequenceNumber": str(self._next_seq()),
            "streamSid": self.stream_sid,
            "stop": {"accountSid": self.account_sid, "callSid": self.call_sid},
        }

    def mark_reply(self, name: str) -> dict[str, Any]:
        return {
            "event": "mark",
            "sequenceNumber": str(self._next_seq()),
            "streamSid": self.stream_sid,
            "mark": {"name": name},
        }


class TelnyxProtocol(ProviderProtocol):
    name = "telnyx"

    def __init__(self, identity: CallIdentity) -> None:
        super().__init__(identity)
        self.call_sid = identity.call_sid or "v3:" + uuid.uuid4().hex
        self.stream_sid = str(uuid.uuid4())
        self._session_id = str(uuid.uuid4())
        self._user_id = str(uuid.uuid4())

    def handshake(self) -> list[dict[str, Any]]:
        params = self.identity.forwarded_params()
        start = {
            "event": "start",
            "sequence_number": str(self._next_seq()),
            "stream_id": self.stream_sid,
            "start": {
                "user_id": self._user_id,
                "call_control_id": self.call_sid,
                "call_session_id": self._session_id,
                "from": self.identity.caller_number,
                "to": self.identity.called_number,
                # Telnyx echoes the client_state given to streaming_start (base64 by convention).
                "client_state": _b64(json.dumps(params).encode()),
                "custom_parameters": params,
                "media_format": {"encoding": "PCMU", "sample_rate": 8000, "channels": 1},
            },
        }
        return [{"event": "connected", "version": "1.0.0"}, start]

    def media(self, samples: np.ndarray) -> dict[str, Any]:
        chunk, ts = self._next_chunk()
        return {
            "event": "media",
            "sequence_number": str(self._next_seq()),
            "media": {
                "track": "inbound",
                "chunk": str(chunk),
                "timestamp": str(ts),
                "payload": _b64(ulaw_encode(samples)),
            },
            "stream_id": self.stream_sid,
        }

    def dtmf(self, digit: str) -> dict[str, Any]:
        return {
            "event": "dtmf",
            "stream_id": self.stream_sid,
            "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "sequence_number": str(self._next_seq()),
            "dtmf": {"digit": digit},
        }

    def stop(self) -> dict[str, Any]:
        return {
            "event": "stop",
            "sequence_number": str(self._next_seq()),
            "stop": {"user_id": self._user_id, "call_control_id": self.call_sid},
            "stream_id": self.stream_sid,
        }

    def mark_reply(self, name: str) -> dict[str, Any]:
        return {
            "event": "mark",
            "sequence_number": str(self._next_seq()),
            "stream_id": self.stream_sid,
            "mark": {"name": name},
        }


class PlivoProtocol(ProviderProtocol):
    name = "plivo"

    def __init__(self, identity: CallIdentity) -> None:
        super().__init__(identity)
        self.call_sid = identity.call_sid or str(uuid.uuid4())
        self.stream_sid = str(uuid.uuid4())
        self.account_id = "MA" + uuid.uuid4().hex[:18].upper()
        # Plivo forwards the <Stream extraHeaders> attribute verbatim as one string.
        self.extra_headers = ";".join(f"{k}={v}" for k, v in identity.forwarded_params().items())

    def handshake(self) -> list[dict[str, Any]]:
        start = {
            "event": "start",
            "sequenceNumber": self._next_seq(),
            "start": {
                "callId": self.call_sid,
                "streamId": self.stream_sid,
                "accountId": self.account_id,
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000},
            },
            "extra_headers": self.extra_headers,
        }
        return [start]

    def media(self, samples: np.ndarray) -> dict[str, Any]:
        chunk, _ = self._next_chunk()
        return {
            "event": "media",
            "sequenceNumber": self._next_seq(),
            "streamId": self.stream_sid,
            "media": {
                "track": "inbound",
                "timestamp": str(int(time.time() * 1000)),  # Plivo: Unix epoch ms
                "chunk": chunk,
                "payload": _b64(ulaw_encode(samples)),
            },
            "extra_headers": self.extra_headers,
        }

    def dtmf(self, digit: str) -> dict[str, Any]:
        return {
            "event": "dtmf",
            "sequenceNumber": self._next_seq(),
            "streamId": self.stream_sid,
            "dtmf": {"track": "inbound", "digit": digit, "timestamp": str(int(time.time() * 1000))},
            "extra_headers": self.extra_headers,
        }

    def stop(self) -> dict[str, Any]:
        # Plivo's documented protocol ends by closing the socket; this stop frame mirrors the
        # other providers so a server that waits for one still sees the hangup.
        return {
            "event": "stop",
            "sequenceNumber": self._next_seq(),
            "streamId": self.stream_sid,
            "stop": {"callId": self.call_sid, "streamId": self.stream_sid},
        }

    def mark_reply(self, name: str) -> dict[str, Any]:
        return {
            "event": "playedStream",
            "sequenceNumber": self._next_seq(),
            "streamId": self.stream_sid,
            "name": name,
        }

    def clear_reply(self) -> dict[str, Any]:
        return {
            "event": "clearedAudio",
            "sequenceNumber": self._next_seq(),
            "streamId": self.stream_sid,
        }


class ExotelProtocol(ProviderProtocol):
    name = "exotel"

    def __init__(self, identity: CallIdentity) -> None:
        super().__init__(identity)
        self.call_sid = identity.call_sid or uuid.uuid4().hex
        self.stream_sid = uuid.uuid4().hex
        self.account_sid = "acme" + uuid.uuid4().hex[:8]

    def handshake(self) -> list[dict[str, Any]]:
        start = {
            "event": "start",
            "sequence_number": str(self._next_seq()),
            "stream_sid": self.stream_sid,
            "start": {
                "stream_sid": self.stream_sid,
                "call_sid": self.call_sid,
                "account_sid": self.account_sid,
                "from": self.identity.caller_number,
                "to": self.identity.called_number,
                "custom_parameters": self.identity.forwarded_params(),
                "media_format": {
                    "encoding": "audio/x-raw",
                    "sample_rate": "8000",
                    "bit_rate": "16",
                },
            },
        }
        return [{"event": "connected"}, start]

    def media(self, samples: np.ndarray) -> dict[str, Any]:
        chunk, ts = self._next_chunk()
        return {
            "event": "media",
            "sequence_number": str(self._next_seq()),
            "stream_sid": self.stream_sid,
            "media": {
                "chunk": str(chunk),
                "timestamp": str(ts),
                "payload": _b64(samples.astype("<i2").tobytes()),
            },
        }

    def dtmf(self, digit: str) -> dict[str, Any]:
        return {
            "event": "dtmf",
            "sequence_number": str(self._next_seq()),
            "stream_sid": self.stream_sid,
            "dtmf": {"digit": digit, "duration": "100"},
        }

    def stop(self) -> dict[str, Any]:
        return {
            "event": "stop",
            "sequence_number": str(self._next_seq()),
            "stream_sid": self.stream_sid,
            "stop": {
                "call_sid": self.call_sid,
                "account_sid": self.account_sid,
                "reason": "callended",
            },
        }

    def mark_reply(self, name: str) -> dict[str, Any]:
        return {
            "event": "mark",
            "sequence_number": str(self._next_seq()),
            "stream_sid": self.stream_sid,
            "mark": {"name": name},
        }


def make_protocol(provider: str, identity: CallIdentity) -> ProviderProtocol:
    classes: dict[str, type[ProviderProtocol]] = {
        "twilio": TwilioProtocol,
        "telnyx": TelnyxProtocol,
        "plivo": PlivoProtocol,
        "exotel": ExotelProtocol,
    }
    if provider not in classes:
        raise ValueError(f"unknown provider {provider!r}; expected one of {', '.join(PROVIDERS)}")
    return classes[provider](identity)
