"""What the emulated model does in one response: fail, call functions, or say something.

Precedence, first match wins: a response's ``Say exactly:`` instructions; silence after a
call scripted with ``reply_after_output: false``; a forced ``tool_choice``; the script's
turn (error, then function calls, then speech); ``Say exactly:`` in the latest text item;
the greeting (turn 0); the default replies in rotation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.realtime.clips import GREETING, BotClip, bot_clip, wav_clip
from sim.realtime.script import FunctionCall, InjectedError, Speech, TurnProgress, next_step

if TYPE_CHECKING:
    from sim.realtime.session import EmulatedSession

SAY_EXACTLY = "Say exactly:"


@dataclass
class Plan:
    transcript: str = ""
    voice: BotClip | None = None  # the audio streamed; None for function calls and silence
    function_calls: list[FunctionCall] = field(default_factory=list)
    error: InjectedError | None = None
    silent: bool = False


def text_of(item: dict) -> str:
    return " ".join(c.get("text") or "" for c in item.get("content") or [] if c.get("text"))


def say_exactly(items: list[dict]) -> str | None:
    """Text after ``Say exactly:`` in the latest system/user text item, if that item is newer
    than any assistant message or user audio (so the convention only drives one response)."""
    for item in reversed(items):
        if item.get("type") != "message":
            continue
        if item.get("role") == "assistant":
            return None
        kinds = {c.get("type") for c in item.get("content") or []}
        if "input_audio" in kinds:
            return None
        if item.get("role") in ("system", "user") and "input_text" in kinds:
            return quoted_after_marker(text_of(item))
    return None


def quoted_after_marker(text: str) -> str | None:
    if SAY_EXACTLY not in text:
        return None
    return text.split(SAY_EXACTLY, 1)[1].strip().strip("\"'“”‘’ \n\t")


def spoken(text: str) -> Plan:
    """Text voiced with the bundled voice: the greeting clip's audio, this transcript."""
    return Plan(transcript=text, voice=bot_clip(GREETING))


def speech_plan(speech: Speech) -> Plan:
    if speech.wav is not None:
        voice = wav_clip(str(speech.wav))
    else:
        voice = bot_clip(speech.clip or GREETING)
    return Plan(transcript=speech.text if speech.text is not None else voice.text, voice=voice)


def _forced_tool_plan(session: EmulatedSession, params: dict) -> Plan | None:
    """``tool_choice`` naming a function (or ``required``) makes every response call one."""
    choice: Any = params.get("tool_choice") or session.config.get("tool_choice")
    config = session.emulator_config
    if isinstance(choice, dict) and choice.get("type") == "function" and choice.get("name"):
        name = choice["name"]
        return Plan(function_calls=[config.scripted_call(name) or FunctionCall(name=name)])
    if choice == "required":
        turn = config.scripted_turn(session.user_turns)
        if turn is not None and turn.function_calls:
            return Plan(function_calls=list(turn.function_calls))
        tools = params.get("tools") or session.config.get("tools") or []
        names = [t["name"] for t in tools if t.get("type", "function") == "function"]
        if names:
            return Plan(
                function_calls=[config.scripted_call(names[0]) or FunctionCall(name=names[0])]
            )
    return None


def _scripted_plan(session: EmulatedSession, params: dict) -> Plan | None:
    turn = session.emulator_config.scripted_turn(session.user_turns)
    if turn is None:
        return None
    progress = session.turn_progress.setdefault(turn.user_turn, TurnProgress())
    step = next_step(turn, progress)
    if (
        step == "function_calls"
        and (params.get("tool_choice") or session.config.get("tool_choice")) == "none"
    ):
        # the model may not call functions now; the calls wait for a response that may
        step = "say" if turn.say is not None and not progress.said else None
    if step == "error":
        progress.error_sent = True
        return Plan(error=turn.error)
    if step == "function_calls":
        progress.calls_made = True
        return Plan(function_calls=list(turn.function_calls))
    if step == "say" and turn.say is not None:
        progress.said = True
        return speech_plan(turn.say)
    return None


def plan_response(session: EmulatedSession, params: dict, in_conversation: bool = True) -> Plan:
    # `response.instructions` with the marker is voiced verbatim (e.g. a fallback line).
    said = quoted_after_marker(params.get("instructions") or "")
    if said is not None:
        return spoken(said)
    last = session.items[-1] if session.items else {}
    if last.get("type") == "function_call_output" and last.get("call_id") in session.silent_calls:
        return Plan(silent=True)
    forced = _forced_tool_plan(session, params)
    if forced is not None:
        return forced
    # An out-of-band response (conversation "none") is a side task: it does not play the
    # conversation's script.
    scripted = _scripted_plan(session, params) if in_conversation else None
    if scripted is not None:
        return scripted
    said = say_exactly(session.items)
    if said is not None:
        return spoken(said)
    # The greeting is the first thing said in a conversation, also one restated as text
    # into a new session (a client reconnecting replays its items).
    said_before = any(
        it.get("type") == "message" and it.get("role") == "assistant" for it in session.items
    )
    if not said_before and session.user_turns == 0 and in_conversation:
        return speech_plan(Speech(clip=GREETING))
    replies = session.emulator_config.reply_clips()
    name = replies[session.reply_index % len(replies)]
    session.reply_index += 1
    return speech_plan(Speech(clip=name))
