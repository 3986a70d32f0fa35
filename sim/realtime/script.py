"""A conversation script: what the emulated model does in its response to each user turn.

A user turn is committed input audio (server VAD, its idle timeout, or
``input_audio_buffer.commit``), or a user message the client created (text or audio) that is
the latest item when a response is asked for. Turn 0 is everything before the first one
(the greeting).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Speech(BaseModel):
    """What the model says: a bundled clip, a WAV of your own, or text.

    Text alone is voiced with the bundled greeting clip (the emulator has no synthesiser:
    the audio is the bundled voice, the transcript is your text). ``clip`` or ``wav`` with
    ``text`` plays that audio under your transcript; without ``text`` the transcript is the
    bundled clip's (``sim/audio/manifest.json``) or the ``.txt`` beside the WAV.
    """

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    clip: str | None = Field(default=None, description="a bundled bot clip, e.g. bot_reply_2.wav")
    wav: Path | None = Field(default=None, description="a mono 16-bit WAV file")

    @model_validator(mode="after")
    def _one_audio_source(self) -> Speech:
        if self.clip and self.wav:
            raise ValueError("give either clip or wav, not both")
        if not (self.text or self.clip or self.wav):
            raise ValueError("give text, clip or wav")
        return self


class FunctionCall(BaseModel):
    """A function call the model makes."""

    model_config = ConfigDict(extra="forbid")

    name: str
    # A string is sent verbatim, so malformed JSON can be scripted too; an object is encoded.
    arguments: str | dict[str, Any] = "{}"
    # False: the response to this call's function_call_output says nothing (no audio),
    # like a model that calls hangup_call and never voices a farewell.
    reply_after_output: bool = True

    def arguments_json(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments)


class InjectedError(BaseModel):
    """An ``error`` event; the response it hits ends ``failed`` with this error."""

    model_config = ConfigDict(extra="forbid")

    type: str = "server_error"
    code: str | None = None
    message: str = (
        "The server had an error while processing your request. Sorry about that! "
        "You can retry your request."
    )
    param: str | None = None


class ScriptedTurn(BaseModel):
    """The model's part after user turn ``user_turn``, in the order it happens.

    The first response to the turn fails with ``error`` (if given); the next makes the
    ``function_calls`` (all in one response); the next — normally the one the client asks
    for after sending the outputs — says ``say``. Responses beyond that fall back to the
    default replies. A forced ``tool_choice`` takes precedence over all of it.
    """

    model_config = ConfigDict(extra="forbid")

    user_turn: int = Field(ge=0, description="0 = before any user turn (the greeting)")
    say: Speech | None = None
    function_calls: list[FunctionCall] = Field(default_factory=list)
    error: InjectedError | None = None


class TurnProgress(BaseModel):
    """How far one session got through one scripted turn."""

    error_sent: bool = False
    calls_made: bool = False
    said: bool = False


ScriptStep = Literal["error", "function_calls", "say"]


def next_step(turn: ScriptedTurn, progress: TurnProgress) -> ScriptStep | None:
    """The part of ``turn`` the next response plays, or None when it is played out."""
    if turn.error is not None and not progress.error_sent:
        return "error"
    if turn.function_calls and not progress.calls_made:
        return "function_calls"
    if turn.say is not None and not progress.said:
        return "say"
    return None


def read_script_file(path: str | Path) -> dict[str, Any]:
    """A YAML or JSON mapping; relative ``wav``/``caller_clip_dirs`` paths resolve against
    the file's folder so a script and its fixtures travel together."""
    path = Path(path)
    text = path.read_text()
    if path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a script is a mapping of emulator settings")
    return _resolve_paths(data, path.parent)


def _resolve_paths(data: dict[str, Any], base: Path) -> dict[str, Any]:
    def resolve(value: str) -> str:
        return str(value if Path(value).is_absolute() else base / value)

    out = dict(data)
    if isinstance(out.get("caller_clip_dirs"), list):
        out["caller_clip_dirs"] = [resolve(d) for d in out["caller_clip_dirs"]]
    turns = out.get("turns")
    if isinstance(turns, list):
        out["turns"] = [_resolve_turn(t, resolve) for t in turns]
    return out


def _resolve_turn(turn: Any, resolve: Any) -> Any:
    say = turn.get("say") if isinstance(turn, dict) else None
    if isinstance(say, dict) and isinstance(say.get("wav"), str):
        return {**turn, "say": {**say, "wav": resolve(say["wav"])}}
    return turn
