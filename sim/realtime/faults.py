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
    retry_after_s: float | None = Field(default=None, ge=0)

    @field_validator("http_status")
    @classmethod
    def _known_status(cls, value: int | None) -> int | None:
        if value is not None:
            try:
                HTTPStatus(value)
            except ValueError:
                raise ValueError(f"{value} is not an HTTP status the emulator can send") from None
        return value
