"""One model response: choose what to say, then stream it as GA events."""

from __future__ import annotations

import asyncio
import base64
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sim.realtime.audio import encode, format_rate
from sim.realtime.clips import GREETING, bot_clip
from sim.realtime.config import ScriptedFunctionCall
from sim.realtime.ids import new_id

if TYPE_CHECKING:
    from sim.realtime.session import EmulatedSession

SAY_EXACTLY = "Say exactly:"


@dataclass
class Plan:
    clip: str | None = None
    transcript: str = ""
    function_call: ScriptedFunctionCall | None = None
    silent: bool = False


@dataclass
class ResponseRun:
    id: str
    plan: Plan
    cancel_reason: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    response: dict = field(default_factory=dict)


def _text_of(item: dict) -> str:
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
            text = _text_of(item)
            return _quoted_after_marker(text)
    return None


def _quoted_after_marker(text: str) -> str | None:
    if SAY_EXACTLY not in text:
        return None
    return text.split(SAY_EXACTLY, 1)[1].strip().strip("\"'“”‘’ \n\t")


def plan_response(session: EmulatedSession, params: dict | None = None) -> Plan:
    # `response.instructions` with the marker is voiced verbatim (e.g. a fallback line).
    said = _quoted_after_marker((params or {}).get("instructions") or "")
    if said is not None:
        return Plan(clip=GREETING, transcript=said)
    turn = session.user_turns
    last = session.items[-1] if session.items else {}
    if last.get("type") == "function_call_output" and last.get("call_id") in session.silent_calls:
        return Plan(silent=True)
    for fc in session.emulator_config.function_calls:
        if fc.after_user_turn == turn and turn not in session.fired_function_turns:
            session.fired_function_turns.add(turn)
            return Plan(function_call=fc)
    said = say_exactly(session.items)
    if said is not None:
        return Plan(clip=GREETING, transcript=said)
    # The greeting is the first thing said in a conversation, also one restated as text
    # into a new session (a client reconnecting replays its items).
    said_before = any(
        it.get("type") == "message" and it.get("role") == "assistant" for it in session.items
    )
    if not said_before and turn == 0:
        return Plan(clip=GREETING, transcript=bot_clip(GREETING).text)
    replies = session.emulator_config.reply_clips()
    name = replies[session.reply_index % len(replies)]
    session.reply_index += 1
    return Plan(clip=name, transcript=bot_clip(name).text)


def _tokens_for_text(text: str) -> int:
    return math.ceil(len(text) / 4) if text else 0


def usage(session: EmulatedSession, out_audio_ms: int, out_text: str) -> dict:
    text_in = _tokens_for_text(session.config.get("instructions") or "") + 4
    audio_in = 0
    for item in session.items:
        text_in += 4 + _tokens_for_text(
            _text_of(item) + (item.get("arguments") or "") + (item.get("output") or "")
        )
        meta = session.item_meta.get(item.get("id") or "", {})
        if item.get("role") == "user":
            audio_in += meta.get("audio_ms", 0) // 100  # ~10 tokens/s of input audio
        elif item.get("role") == "assistant":
            audio_in += meta.get("audio_ms", 0) // 50
            text_in += _tokens_for_text(meta.get("transcript", ""))
    cached = (session.last_input_tokens // 64) * 64
    total_in = text_in + audio_in
    cached = min(cached, total_in)
    session.last_input_tokens = total_in
    audio_out = out_audio_ms // 50  # ~20 tokens/s of output audio
    text_out = _tokens_for_text(out_text)
    cached_audio = min(cached, audio_in)
    return {
        "total_tokens": total_in + audio_out + text_out,
        "input_tokens": total_in,
        "output_tokens": audio_out + text_out,
        "input_token_details": {
            "text_tokens": text_in,
            "audio_tokens": audio_in,
            "image_tokens": 0,
            "cached_tokens": cached,
            "cached_tokens_details": {
                "text_tokens": cached - cached_audio,
                "audio_tokens": cached_audio,
                "image_tokens": 0,
            },
        },
        "output_token_details": {"text_tokens": text_out, "audio_tokens": audio_out},
    }


async def _pause(run: ResponseRun, seconds: float) -> None:
    if seconds <= 0 or run.cancel_reason:
        return
    try:
        await asyncio.wait_for(run.wake.wait(), seconds)
    except TimeoutError:
        pass


async def stream_function_call(session: EmulatedSession, run: ResponseRun) -> None:
    fc = run.plan.function_call
    assert fc is not None
    rid = run.id
    item = {
        "id": new_id("item_"),
        "object": "realtime.item",
        "type": "function_call",
        "status": "in_progress",
        "name": fc.name,
        "call_id": new_id("call_", 16),
        "arguments": "",
    }
    if not fc.reply_after_output:
        session.silent_calls.add(item["call_id"])
    await session.send("response.output_item.added", response_id=rid, output_index=0, item=item)
    prev = session.append_item(dict(item))
    await session.send("conversation.item.added", previous_item_id=prev, item=item)
    args = fc.arguments
    step = max(1, math.ceil(len(args) / 3))
    for i in range(0, len(args), step):
        await session.send(
            "response.function_call_arguments.delta",
            response_id=rid,
            item_id=item["id"],
            output_index=0,
            call_id=item["call_id"],
            delta=args[i : i + step],
        )
    await session.send(
        "response.function_call_arguments.done",
        response_id=rid,
        item_id=item["id"],
        output_index=0,
        call_id=item["call_id"],
        name=fc.name,
        arguments=args,
    )
    item = {**item, "status": "completed", "arguments": args}
    session.replace_item(item)
    await session.send("response.output_item.done", response_id=rid, output_index=0, item=item)
    await session.send("conversation.item.done", previous_item_id=prev, item=item)
    run.response["output"] = [item]
    run.response["usage"] = usage(session, 0, args)


async def stream_message(session: EmulatedSession, run: ResponseRun) -> None:
    rid = run.id
    plan = run.plan
    text_only = session.config.get("output_modalities") == ["text"]
    ctype = "output_text" if text_only else "output_audio"
    item = {
        "id": new_id("item_"),
        "object": "realtime.item",
        "type": "message",
        "status": "in_progress",
        "role": "assistant",
        "content": [],
    }
    iid = item["id"]
    await session.send("response.output_item.added", response_id=rid, output_index=0, item=item)
    prev = session.append_item(dict(item))
    await session.send("conversation.item.added", previous_item_id=prev, item=item)
    empty = {"type": "text", "text": ""} if text_only else {"type": "audio", "transcript": ""}
    loc = {"response_id": rid, "item_id": iid, "output_index": 0, "content_index": 0}
    await session.send("response.content_part.added", **loc, part=empty)

    words = re.findall(r"\S+\s*", plan.transcript)
    sent_words: list[str] = []
    sent_ms = 0
    if text_only:
        for word in words:
            if run.cancel_reason:
                break
            await session.send("response.output_text.delta", **loc, delta=word)
            sent_words.append(word)
            await _pause(run, 0.02 / session.emulator_config.stream_speed)
    else:
        fmt = session.config["audio"]["output"]["format"]
        rate = format_rate(fmt)
        samples = bot_clip(plan.clip or GREETING).samples_for_rate(rate)
        chunk_ms = session.emulator_config.chunk_ms
        per_chunk = rate * chunk_ms // 1000
        n_chunks = max(1, math.ceil(len(samples) / per_chunk))
        if session.faults.first_audio_delay_s:
            await _pause(run, session.faults.first_audio_delay_s)
        for index in range(n_chunks):
            if run.cancel_reason:
                break
            due = math.ceil((index + 1) * len(words) / n_chunks)
            while len(sent_words) < due:
                word = words[len(sent_words)]
                await session.send("response.output_audio_transcript.delta", **loc, delta=word)
                sent_words.append(word)
            chunk = samples[index * per_chunk : (index + 1) * per_chunk]
            payload = base64.b64encode(encode(chunk, fmt)).decode()
            await session.send("response.output_audio.delta", **loc, delta=payload)
            sent_ms += len(chunk) * 1000 // rate
            session.output_audio_started = True
            await _pause(run, chunk_ms / 1000 / session.emulator_config.stream_speed)

    cancelled = run.cancel_reason is not None
    text = ("".join(sent_words) if cancelled else plan.transcript).strip()
    if text_only:
        await session.send("response.output_text.done", **loc, text=text)
        part = {"type": "text", "text": text}
    else:
        await session.send("response.output_audio.done", **loc)
        await session.send("response.output_audio_transcript.done", **loc, transcript=text)
        part = {"type": "audio", "transcript": text}
    await session.send("response.content_part.done", **loc, part=part)
    content = {"type": ctype, "text": text} if text_only else {"type": ctype, "transcript": text}
    item = {**item, "status": "incomplete" if cancelled else "completed", "content": [content]}
    session.replace_item(item)
    session.item_meta[iid] = {"audio_ms": sent_ms, "transcript": text}
    await session.send("response.output_item.done", response_id=rid, output_index=0, item=item)
    await session.send("conversation.item.done", previous_item_id=prev, item=item)
    run.response["output"] = [item]
    run.response["usage"] = usage(session, sent_ms, text)
