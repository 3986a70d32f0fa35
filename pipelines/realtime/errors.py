"""Which Realtime failures end a call, which are retried, and which are noise.

One table, used by the call (pipelines/realtime/resilient.py) and by the ``check`` doctor
(bot/realtime/doctor.py), so both name a cause the same way. Pipecat 1.14 treats every error event
except two as fatal; a phone call should only end for what a retry cannot fix.
"""

from dataclasses import dataclass
from enum import StrEnum


class ErrorKind(StrEnum):
    FATAL = "fatal"  # the account/model/key is wrong: retrying cannot help, end the call
    TRANSIENT = "transient"  # the server or network stumbled: reconnect or retry
    REJECTED = "rejected"  # one client event was refused; the session goes on
    BENIGN = "benign"  # an expected race (cancel after done...): debug log only


@dataclass(frozen=True)
class Verdict:
    kind: ErrorKind
    cause: str  # one line a person can act on


# Causes are phrased for the person reading the log, not for the code.
_FATAL_CODES = {
    "invalid_api_key": "wrong API key (invalid_api_key)",
    "model_not_found": "unknown model or no access to it (model_not_found)",
    "insufficient_quota": "account out of quota (insufficient_quota)",
    "account_deactivated": "account deactivated (account_deactivated)",
    "unsupported_country_region_territory": "region not supported (unsupported_country)",
    "invalid_organization": "wrong organization (invalid_organization)",
}
_FATAL_TYPES = {
    "authentication_error": "wrong API key",
    "permission_error": "no Realtime access for this key",
    "insufficient_quota": "account out of quota",
}
_TRANSIENT_CODES = {
    "session_expired": "session reached its maximum duration (session_expired)",
    "rate_limit_exceeded": "rate limited (rate_limit_exceeded)",
    "server_error": "server error (server_error)",
    "server_overloaded": "server overloaded",
}
_TRANSIENT_TYPES = {"server_error", "rate_limit_error", "rate_limits_exceeded"}
_BENIGN_CODES = {
    "response_cancel_not_active",
    "conversation_already_has_active_response",
    "input_audio_buffer_commit_empty",
    "item_truncate_invalid_item_id",
}


def classify_error(code: str | None, etype: str | None, message: str = "") -> Verdict:
    """Classify one Realtime ``error`` event (or a failed response's error)."""
    code = code or ""
    etype = etype or ""
    short = " ".join(message.split())[:160]
    if code in _FATAL_CODES:
        return Verdict(ErrorKind.FATAL, _FATAL_CODES[code])
    if etype in _FATAL_TYPES:
        return Verdict(ErrorKind.FATAL, f"{_FATAL_TYPES[etype]} ({code or etype}): {short}")
    if code in _TRANSIENT_CODES:
        return Verdict(ErrorKind.TRANSIENT, _TRANSIENT_CODES[code])
    if etype in _TRANSIENT_TYPES:
        return Verdict(ErrorKind.TRANSIENT, f"{etype} ({code or 'no code'}): {short}")
    if code in _BENIGN_CODES:
        return Verdict(ErrorKind.BENIGN, f"{code}: {short}")
    return Verdict(ErrorKind.REJECTED, f"{code or etype or 'error'}: {short}")


def classify_http_status(status: int) -> Verdict:
    """Classify a refused WebSocket upgrade (the API answers some failures over plain HTTP)."""
    if status == 401:
        return Verdict(ErrorKind.FATAL, "wrong API key (HTTP 401 at WebSocket upgrade)")
    if status == 403:
        return Verdict(ErrorKind.FATAL, "no Realtime access for this key (HTTP 403)")
    if status == 404:
        return Verdict(ErrorKind.FATAL, "Realtime endpoint or model not found (HTTP 404)")
    if status == 429:
        return Verdict(ErrorKind.TRANSIENT, "rate limited (HTTP 429)")
    if status >= 500:
        return Verdict(ErrorKind.TRANSIENT, f"server error (HTTP {status})")
    return Verdict(ErrorKind.FATAL, f"WebSocket upgrade refused (HTTP {status})")


class RealtimeFailure(Exception):
    """Opening or keeping a Realtime session failed; ``verdict`` says whether to retry."""

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.cause)
        self.verdict = verdict

    @property
    def fatal(self) -> bool:
        return self.verdict.kind is ErrorKind.FATAL
