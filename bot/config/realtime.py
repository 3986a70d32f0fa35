"""How hard a call fights to keep its Realtime connection: timeouts, reconnect, rollover.

Defaults suit a phone call against OpenAI; every value is overridable from the environment
(see ``Settings.realtime_resilience``) and documented in docs/resilience.md.
"""

from pydantic import BaseModel, ConfigDict, Field


class RealtimeTimeouts(BaseModel):
    """Seconds to wait before a step counts as hung. Each expiry logs one line and is counted
    in the call record (``realtime.timeouts``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    connect_s: float = Field(default=5.0, gt=0)
    session_updated_s: float = Field(default=5.0, gt=0)
    first_audio_s: float = Field(default=5.0, gt=0)
    tool_s: float = Field(default=20.0, gt=0)


class ReconnectPolicy(BaseModel):
    """Bounded, jittered retries after a dropped socket or a transient error."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=5, ge=1)
    backoff_base_s: float = Field(default=0.25, ge=0)
    backoff_max_s: float = Field(default=4.0, ge=0)
    # Caller audio kept while no session is listening; older audio is dropped first.
    audio_buffer_s: float = Field(default=5.0, gt=0)


class RolloverPolicy(BaseModel):
    """Moving a call onto a fresh session before the server's session cap ends it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    # The next session is opened this long before `expires_at` (at most half the session's
    # life, so a short cap still leaves room), then the switch waits for a quiet moment.
    lead_s: float = Field(default=30.0, gt=0)
    # How long the caller must have been quiet (server VAD) before a switch.
    quiet_s: float = Field(default=0.3, ge=0)


class RealtimeResilienceConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timeouts: RealtimeTimeouts = Field(default_factory=RealtimeTimeouts)
    reconnect: ReconnectPolicy = Field(default_factory=ReconnectPolicy)
    rollover: RolloverPolicy = Field(default_factory=RolloverPolicy)
