"""Fault injection knobs for the Realtime emulator."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Faults(BaseModel):
    """Failures the emulator injects into a connection.

    - ``bad_key``: reject the Bearer token (``invalid_api_key`` error, then close 3000).
    - ``model_not_found``: reject the ``?model=`` (``model_not_found`` error, then close 3000).
    - ``drop_after_s``: abort the TCP connection (no close frame) N s after connect.
    - ``session_expired_after_s``: ``session_expired`` error N s after connect, then close 1001.
    - ``first_audio_delay_s``: wall-clock delay before the first audio delta of every response.
    - ``no_session_updated``: never answer ``session.update`` (for client timeout tests).
    """

    model_config = ConfigDict(extra="forbid")

    bad_key: bool = False
    model_not_found: bool = False
    drop_after_s: float | None = None
    session_expired_after_s: float | None = None
    first_audio_delay_s: float | None = None
    no_session_updated: bool = False
