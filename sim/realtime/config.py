"""Configuration of the Realtime emulator: what a script file or the Python API sets."""

from __future__ import annotations

import fnmatch
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from sim.realtime.faults import Faults
from sim.realtime.script import FunctionCall, ScriptedTurn, read_script_file

# Any current or dated Realtime model name, e.g. gpt-realtime-2025-08-28, gpt-realtime-mini,
# gpt-4o-mini-realtime-preview-2024-12-17 (fnmatch patterns).
DEFAULT_MODELS = ["gpt-realtime*", "gpt-4o*-realtime*"]
DEFAULT_REPLIES = ["bot_reply_1.wav", "bot_reply_2.wav", "bot_reply_3.wav"]


class ScriptedFunctionCall(FunctionCall):
    """Make the model call a function in the response to user turn ``after_user_turn``.

    The call is emitted once; the response created after the client supplies the
    ``function_call_output`` is a normal audio reply. (The older form of a
    :class:`~sim.realtime.script.ScriptedTurn` with one function call.)
    """

    after_user_turn: int


class EmulatorConfig(BaseModel):
    """Behaviour of a :class:`~sim.realtime.RealtimeEmulator`; a ``--script`` file holds
    the same keys (``docs/realtime-script.schema.json``)."""

    model_config = ConfigDict(extra="forbid")

    api_key: str | None = Field(default=None, description="require this Bearer key")
    known_models: list[str] = Field(
        default_factory=lambda: list(DEFAULT_MODELS),
        description="model names (fnmatch patterns) accepted in ?model=; others get "
        "model_not_found",
    )
    session_cap_s: float = 3600.0
    stream_speed: float = Field(
        default=4.0, description="audio streams this much faster than real time"
    )
    chunk_ms: int = 100
    replies: list[str] | None = Field(
        default=None, description="bundled bot clips said in turn when the script says nothing"
    )
    turns: list[ScriptedTurn] = Field(default_factory=list)
    function_calls: list[ScriptedFunctionCall] = Field(default_factory=list)
    caller_clip_dirs: list[Path] = Field(
        default_factory=list,
        description="folders of caller WAVs, each with a .txt transcript beside it, that "
        "input transcription recognises besides the bundled ones",
    )
    rate_limits: bool = Field(default=True, description="send rate_limits.updated per response")
    faults: Faults = Field(default_factory=Faults)
    # Per-connection overrides, keyed by 0-based connection index (order of arrival, an
    # upgrade refused with an HTTP status included).
    faults_for_connection: dict[int, Faults] = Field(default_factory=dict)
    strict_events: bool = True

    @classmethod
    def from_file(cls, path: str | Path) -> EmulatorConfig:
        """Load a ``--script`` file (YAML or JSON)."""
        return cls.model_validate(read_script_file(path))

    def faults_for(self, index: int) -> Faults:
        return self.faults_for_connection.get(index, self.faults)

    def reply_clips(self) -> list[str]:
        return list(self.replies) if self.replies else list(DEFAULT_REPLIES)

    def accepts_model(self, model: str) -> bool:
        return any(fnmatch.fnmatchcase(model, pattern) for pattern in self.known_models)

    def scripted_turn(self, user_turn: int) -> ScriptedTurn | None:
        """The script for ``user_turn``: ``turns`` first, then the older ``function_calls``."""
        for turn in self.turns:
            if turn.user_turn == user_turn:
                return turn
        calls = [c for c in self.function_calls if c.after_user_turn == user_turn]
        return ScriptedTurn(user_turn=user_turn, function_calls=calls) if calls else None

    def scripted_call(self, name: str) -> FunctionCall | None:
        """Any scripted call of function ``name`` (for a forced ``tool_choice``)."""
        for turn in self.turns:
            for call in turn.function_calls:
                if call.name == name:
                    return call
        return next((c for c in self.function_calls if c.name == name), None)


def script_schema() -> dict:
    """The JSON schema of a ``--script`` file (committed as docs/realtime-script.schema.json)."""
    schema = EmulatorConfig.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Realtime emulator script",
        **schema,
    }
