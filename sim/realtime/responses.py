"""One model response streamed as GA events: audio or text, function calls, or a failure.

What the response says is decided by :mod:`sim.realtime.planner`. A response in the
conversation (``conversation: "auto"``, the default) adds its items to it; an out-of-band one
(``"none"``) only streams them.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sim.realtime.audio import encode, format_rate
from sim.realtime.ids import new_id
from sim.realtime.planner import Plan, text_of
from sim.realtime.schema import rate_limit_error

if TYPE_CHECKING:
    from sim.realtime.session import EmulatedSession


@dataclass(eq=False)  # identity: runs are kept in sets
class ResponseRun:
    id: str
    plan: Plan
    modalities: list[str] = field(default_factory=lambda: ["audio"])
    in_conversation: bool = True
    cancel_reason: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    response: dict = field(default_factory=dict)
    rate_limited: bool = False  # refused by the account's rate limit (Faults)


def _tokens_for_text(text: str) -> int:
    return math.ceil(len(text) / 4) if text else 0


def usage(session: EmulatedSession, out_audio_ms: int, out_text: str) -> dict:
    text_in = _tokens_for_text(session.config.get("instructions") or "") + 4
    audio_in = 0
    for item in session.items:
        text_in += 4 + _tokens_for_text(
            text_of(item) + (item.get("arguments") or "") + (item.get("output") or "")
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


async def _item_added(
    session: EmulatedSession, run: ResponseRun, index: int, item: dict
) -> str | None:
    """Announce a new output item; in the conversation, store it. Returns its predecessor."""
    await session.send(
        "response.output_item.added", response_id=run.id, output_index=index, item=item
    )
    if not run.in_conversation:
        return None
    prev = session.append_item(dict(item))
    await session.send("conversation.item.added", previous_item_id=prev, item=item)
    return prev


async def _item_done(
    session: EmulatedSession,
    run: ResponseRun,
    index: int,
    item: dict,
    prev: str | None,
    stored: dict,
) -> None:
    await session.send(
        "response.output_item.done", response_id=run.id, output_index=index, item=item
    )
    if run.in_conversation:
        # A copy: a later truncation edits the stored item, not the response's output.
        session.replace_item(copy.deepcopy(stored))
        await session.send("conversation.item.done", previous_item_id=prev, item=stored)


async def stream_failure(session: EmulatedSession, run: ResponseRun) -> None:
    """The response ends ``failed``: an ``error`` event, then no output."""
    err = run.plan.error
    assert err is not None
    await session.send_error(err.model_dump())
    run.response["status_details"] = {
        "type": "failed",
        "error": {"type": err.type, "code": err.code},
    }
    run.response["usage"] = usage(session, 0, "")


def stream_rate_limited(session: EmulatedSession, run: ResponseRun) -> None:
    """The response is refused for the rate limit, as the real API reports it: no output,
    no tokens, and the limit's error (with its "try again in") in ``status_details``."""
    err = rate_limit_error(session.model, session.faults.retry_after_s)
    run.response["status_details"] = {
        "type": "failed",
        "error": {"type": err["type"], "code": err["code"], "message": err["message"]},
    }
    run.response["usage"] = _no_usage()


def _no_usage() -> dict:
    return {
        "total_tokens": 0,
        "input_tokens": 0,
        "output_tokens": 0,
        "input_token_details": {
            "text_tokens": 0,
            "audio_tokens": 0,
            "image_tokens": 0,
            "cached_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": 0, "audio_tokens": 0},
    }


async def stream_function_calls(session: EmulatedSession, run: ResponseRun) -> None:
    """Every planned call as its own output item, arguments streamed in three deltas."""
    outputs = []
    for index, call in enumerate(run.plan.function_calls):
        item = {
            "id": new_id("item_"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": call.name,
            "call_id": new_id("call_", 16),
            "arguments": "",
        }
        if not call.reply_after_output:
            session.silent_calls.add(item["call_id"])
        prev = await _item_added(session, run, index, item)
        args = call.arguments_json()
        loc = {"response_id": run.id, "item_id": item["id"], "output_index": index}
        step = max(1, math.ceil(len(args) / 3))
        for i in range(0, len(args), step):
            await session.send(
                "response.function_call_arguments.delta",
                **loc,
                call_id=item["call_id"],
                delta=args[i : i + step],
            )
        await session.send(
            "response.function_call_arguments.done",
            **loc,
            call_id=item["call_id"],
            name=call.name,
            arguments=args,
        )
        item = {**item, "status": "completed", "arguments": args}
        await _item_done(session, run, index, item, prev, item)
        outputs.append(item)
    run.response["output"] = outputs
    run.response["usage"] = usage(session, 0, "".join(o["arguments"] for o in outputs))


async def stream_message(session: EmulatedSession, run: ResponseRun) -> None:
    rid = run.id
    plan = run.plan
    text_only = "audio" not in run.modalities
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
    prev = await _item_added(session, run, 0, item)
    empty = {"type": "text", "text": ""} if text_only else {"type": "audio", "transcript": ""}
    loc = {"response_id": rid, "item_id": iid, "output_index": 0, "content_index": 0}
    await session.send("response.content_part.added", **loc, part=empty)
    # From here the stored item has its content part, so a client that truncates it while
    # it is still streaming (openai-agents does on every interrupt) finds content_index 0.
    stored = session.find_item(iid) if run.in_conversation else None
    live = {"type": ctype, "text": ""} if text_only else {"type": ctype, "transcript": ""}
    if stored is not None:
        stored["content"] = [live]
    meta = session.item_meta.setdefault(iid, {"audio_ms": 0, "transcript": ""})

    words = re.findall(r"\S+\s*", plan.transcript)
    sent_words: list[str] = []

    def heard(word: str) -> None:
        sent_words.append(word)
        if "truncated_ms" not in meta:
            meta["transcript"] = live["text" if text_only else "transcript"] = "".join(sent_words)

    if text_only:
        for word in words:
            if run.cancel_reason:
                break
            await session.send("response.output_text.delta", **loc, delta=word)
            heard(word)
            await _pause(run, 0.02 / session.emulator_config.stream_speed)
    else:
        fmt = session.config["audio"]["output"]["format"]
        rate = format_rate(fmt)
        assert plan.voice is not None
        samples = plan.voice.samples_for_rate(rate)
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
                heard(word)
            chunk = samples[index * per_chunk : (index + 1) * per_chunk]
            payload = base64.b64encode(encode(chunk, fmt)).decode()
            await session.send("response.output_audio.delta", **loc, delta=payload)
            if "truncated_ms" not in meta:
                meta["audio_ms"] += len(chunk) * 1000 // rate
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
    if "truncated_ms" in meta:
        # The client cut this item while it streamed: the conversation keeps what was heard.
        kept = meta["transcript"]
        truncated = (
            {"type": ctype, "text": kept} if text_only else {"type": ctype, "transcript": kept}
        )
        stored_item = {**item, "content": [truncated]}
    else:
        meta["transcript"] = text
        stored_item = item
    await _item_done(session, run, 0, item, prev, stored_item)
    if not run.in_conversation:
        session.item_meta.pop(iid, None)
    run.response["output"] = [item]
    run.response["usage"] = usage(session, meta.get("audio_ms", 0), text)
