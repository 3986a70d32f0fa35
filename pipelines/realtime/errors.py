"""Which Realtime failures end a call, which are retried, and which are noise.

One table, used by the call (pipelines/realtime/resilient.py) and by the ``check`` doctor
(bot/realtime/doctor.py), so both name a cause the same way. Pipecat 1.14 treats every error event
except two as fatal; a phone call should only end for what a retry cannot fix.
"""

import re
from collections.abc import Mapping
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
    # The account's rate limit said no (rate_limit_exceeded, HTTP 429): at a call's start
    # this has its own plan (session_opener.open_with_retries, docs/operations.md).
    rate_limited: bool = False
    retry_after_s: float | None = None  # the server's "try again in", when it gave one


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
    "server_error": "server error (server_error)",
    "server_overloaded": "server overloaded",
}
_TRANSIENT_TYPES = {"server_error", "rate_limit_error", "rate_limits_exceeded"}
# Azure OpenAI reports its own as inference_rate_limit_exceeded (openai-python #2502).
_RATE_LIMIT_CODES = {"rate_limit_exceeded", "inference_rate_limit_exceeded"}
_RATE_LIMIT_TYPES = {"rate_limit_error", "rate_limits_exceeded"}
# "... Please try again in 1.2s." / "in 684ms" / "in 1m30s" (the API's rate-limit messages).
_TRY_AGAIN_RE = re.compile(r"try again in (?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)(ms|s))?")
_BENIGN_CODES = {
    "response_cancel_not_active",
    "conversation_already_has_active_response",
    "input_audio_buffer_commit_empty",
    "item_truncate_invalid_item_id",
}


def retry_hint_from_message(message: str) -> float | None:
    """Seconds from an error message's "Please try again in ...", if it has one."""
    match = _TRY_AGAIN_RE.search(message or "")
    if match is None or not (match.group(1) or match.group(2)):
        return None
    seconds = float(match.group(1) or 0) * 60
    if match.group(2):
        value = float(match.group(2))
        seconds += value / 1000 if match.group(3) == "ms" else value
    return seconds


def retry_hint_from_headers(headers: Mapping[str, str]) -> float | None:
    """Seconds from a refusal's ``retry-after-ms`` or ``Retry-After`` (seconds) header, the
    two the openai package reads; an HTTP date is not worth parsing for a live caller."""
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) / scale
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


def classify_error(code: str | None, etype: str | None, message: str = "") -> Verdict:
    """Classify one Realtime ``error`` event (or a failed response's error)."""
    code = code or ""
    etype = etype or ""
    short = " ".join(message.split())[:160]
    if code in _RATE_LIMIT_CODES or etype in _RATE_LIMIT_TYPES:
        hint = retry_hint_from_message(message)
        after = f", retry in {hint:g}s" if hint is not None else ""
        cause = f"rate limited ({code or etype}{after})"
        return Verdict(ErrorKind.TRANSIENT, cause, rate_limited=True, retry_after_s=hint)
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


def classify_http_status(status: int, retry_after_s: float | None = None) -> Verdict:
    """Classify a refused WebSocket upgrade (the API answers some failures over plain HTTP);
    ``retry_after_s``: the refusal's retry hint (``retry_hint_from_headers``)."""
    if status == 401:
        return Verdict(ErrorKind.FATAL, "wrong API key (HTTP 401 at WebSocket upgrade)")
    if status == 403:
        return Verdict(ErrorKind.FATAL, "no Realtime access for this key (HTTP 403)")
    if status == 404:
        return Verdict(ErrorKind.FATAL, "Realtime endpoint or model not found (HTTP 404)")
    if status == 429:
        after = f", retry in {retry_after_s:g}s" if retry_after_s is not None else ""
        return Verdict(
            ErrorKind.TRANSIENT,
            f"rate limited (HTTP 429{after})",
            rate_limited=True,
            retry_after_s=retry_after_s,
        )
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
