"""Configuration of the Realtime emulator."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from sim.realtime.faults import Faults

DEFAULT_MODELS = [
    "gpt-realtime",
    "gpt-realtime-2",
    "gpt-realtime-2.1",
    "gpt-realtime-mini",
    "gpt-4o-realtime-preview",
]
DEFAULT_REPLIES = ["bot_reply_1.wav", "bot_reply_2.wav", "bot_reply_3.wav"]


class ScriptedFunctionCall(BaseModel):
    """Make the model call a function in the response to user turn ``after_user_turn``.

    User turns are counted as committed user audio items (1-based). The call is emitted
    once; the response created after the client supplies the ``function_call_output``
    is a normal audio reply.
    """

    after_user_turn: int
    name: str
    # Sent verbatim, so malformed JSON can be scripted too.
    arguments: str = "{}"
    # False: the response to this call's function_call_output says nothing (no audio),
    # like a model that calls hangup_call and never voices a farewell.
    reply_after_output: bool = True


class EmulatorConfig(BaseModel):
    """Behaviour of a :class:`~sim.realtime.RealtimeEmulator`."""

    model_config = ConfigDict(extra="forbid")

    api_key: str | None = None
    known_models: list[str] = Field(default_factory=lambda: list(DEFAULT_MODELS))
    session_cap_s: float = 3600.0
    stream_speed: float = 4.0
    chunk_ms: int = 100
    replies: list[str] | None = None
    function_calls: list[ScriptedFunctionCall] = Field(default_factory=list)
    faults: Faults = Field(default_factory=Faults)
    # Per-connection overrides, keyed by 0-based connection index (order of accept).
    faults_for_connection: dict[int, Faults] = Field(default_factory=dict)
    strict_events: bool = True

    def faults_for(self, index: int) -> Faults:
        return self.faults_for_connection.get(index, self.faults)

    def reply_clips(self) -> list[str]:
        return list(self.replies) if self.replies else list(DEFAULT_REPLIES)
