"""Fault injection knobs for the Realtime emulator."""

from __future__ import annotations

from http import HTTPStatus

from pydantic import BaseModel, ConfigDict, Field, field_validator


class Faults(BaseModel):
    """Failures the emulator injects into a connection.

    - ``bad_key``: reject the Bearer token (``invalid_api_key`` error, then close 3000).
    - ``model_not_found``: reject the ``?model=`` (``model_not_found`` error, then close 3000).
    - ``drop_after_s``: abort the TCP connection (no close frame) N s after connect.
    - ``session_expired_after_s``: ``session_expired`` error N s after connect, then close 1001.
    - ``first_audio_delay_s``: wall-clock delay before the first audio delta of every response.
    - ``no_session_updated``: never answer ``session.update`` (for client timeout tests).
    - ``rate_limited``: the account is over its rate limit: the connection is answered with a
      ``rate_limit_exceeded`` error event instead of ``session.created``, then closed 1013.
    - ``http_status``: refuse the WebSocket upgrade with this HTTP status (e.g. 429, with the
      API's JSON error body) — no session at all.
    - ``rate_limited_responses``: the session opens, but this many responses in a row are
      refused by the rate limit, as the real API refuses them: ``response.created``, then
      ``response.done`` with ``status: failed`` and ``status_details.error`` code
      ``rate_limit_exceeded``, no output and no usage. A large number: a limit that does not
      lift during the call.
    - ``rate_limited_responses_after``: responses answered normally on the connection before
      the first refusal (0: the first response, usually the greeting, is refused).
    - ``retry_after_s``: the retry hint a refusal carries: "Please try again in Ns." in the
      error message and, on an HTTP refusal, the ``Retry-After``/``retry-after-ms`` headers.

    Per connection (``EmulatorConfig.faults_for_connection``), one call can be refused while
    another on the same server is not.
    """

    model_config = ConfigDict(extra="forbid")

    bad_key: bool = False
    model_not_found: bool = False
    drop_after_s: float | None = None
    session_expired_after_s: float | None = None
    first_audio_delay_s: float | None = None
    no_session_updated: bool = False
    rate_limited: bool = False
    http_status: int | None = Field(default=None, ge=400, le=599)
    rate_limited_responses: int = Field(default=0, ge=0)
    rate_limited_responses_after: int = Field(default=0, ge=0)
    retry_after_s: float | None = Field(default=None, ge=0)

    def refuses_response(self, index: int) -> bool:
        """Whether the connection's response ``index`` (0-based) is refused for the limit."""
        first = self.rate_limited_responses_after
        return first <= index < first + self.rate_limited_responses

    @field_validator("http_status")
    @classmethod
    def _known_status(cls, value: int | None) -> int | None:
        if value is not None:
            try:
                HTTPStatus(value)
            except ValueError:
                raise ValueError(f"{value} is not an HTTP status the emulator can send") from None
        return value
