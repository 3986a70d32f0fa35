"""Handlers for ``conversation.item.*`` client events."""

from __future__ import annotations

import base64
import copy
import re
from typing import TYPE_CHECKING

from sim.realtime.audio import encode
from sim.realtime.ids import new_id
from sim.realtime.schema import error, validate_model

if TYPE_CHECKING:
    from sim.realtime.session import EmulatedSession


def _missing(param: str, event_id: str | None) -> dict:
    return error(
        "missing_required_parameter", f"Missing required parameter: '{param}'.", param, event_id
    )


async def create(session: EmulatedSession, event: dict) -> None:
    from openai.types.realtime import ConversationItem

    event_id = event.get("event_id")
    raw = event.get("item")
    if not isinstance(raw, dict):
        await session.send_error(_missing("item", event_id))
        return
    if raw.get("type") == "function_call" and "call_id" not in raw:
        raw = {**raw, "call_id": new_id("call_", 16)}
    err = validate_model(ConversationItem, raw, "item", event_id)
    if err is None and raw.get("type") not in ("message", "function_call", "function_call_output"):
        err = error(
            "invalid_value",
            f"Invalid value: '{raw.get('type')}'. Supported values are: "
            "'message', 'function_call', and 'function_call_output'.",
            "item.type",
            event_id,
        )
    if err is None and raw.get("id") and session.find_item(raw["id"]):
        err = error(
            "item_already_exists",
            f"Item with id '{raw['id']}' already exists.",
            "item.id",
            event_id,
        )
    prev_id = event.get("previous_item_id")
    if err is None and prev_id not in (None, "root") and session.find_item(prev_id) is None:
        err = error(
            "invalid_value",
            f"Previous item with id '{prev_id}' does not exist.",
            "previous_item_id",
            event_id,
        )
    if err is not None:
        await session.send_error(err)
        return
    item = copy.deepcopy(raw)
    item.setdefault("id", new_id("item_"))
    item["object"] = "realtime.item"
    item["status"] = "completed"
    meta: dict = {}
    for part in item.get("content") or []:
        if part.get("type") == "input_audio" and part.get("audio"):
            meta["audio_ms"] = len(base64.b64decode(part["audio"])) // 48
            part.pop("audio")  # the server does not echo audio bytes in item events
            part.setdefault("transcript", None)
    session.item_meta[item["id"]] = meta
    prev = session.append_item(item, prev_id)
    await session.send("conversation.item.added", previous_item_id=prev, item=item)
    await session.send("conversation.item.done", previous_item_id=prev, item=item)


async def truncate(session: EmulatedSession, event: dict) -> None:
    event_id = event.get("event_id")
    for key in ("item_id", "content_index", "audio_end_ms"):
        if key not in event:
            await session.send_error(_missing(key, event_id))
            return
    item_id, end_ms = event["item_id"], event["audio_end_ms"]
    item = session.find_item(item_id)
    if item is None or item.get("role") != "assistant":
        await session.send_error(
            error(
                "item_truncate_invalid_item_id",
                f"Invalid 'item_id': '{item_id}'. Only assistant messages can be truncated.",
                "item_id",
                event_id,
            )
        )
        return
    content = item.get("content") or []
    index = event["content_index"]
    if not isinstance(index, int) or not 0 <= index < len(content):
        await session.send_error(
            error("invalid_value", f"Invalid 'content_index': {index}.", "content_index", event_id)
        )
        return
    meta = session.item_meta.setdefault(item_id, {})
    audio_ms = meta.get("audio_ms", 0)
    if not isinstance(end_ms, int) or end_ms < 0 or end_ms > audio_ms:
        await session.send_error(
            error(
                "invalid_value",
                f"Audio content of {audio_ms}ms is already shorter than {end_ms}ms",
                "audio_end_ms",
                event_id,
            )
        )
        return
    transcript = content[index].get("transcript") or ""
    words = re.findall(r"\S+\s*", transcript)
    keep = round(len(words) * end_ms / audio_ms) if audio_ms else 0
    content[index]["transcript"] = "".join(words[:keep]).strip()
    meta["audio_ms"] = end_ms
    meta["transcript"] = content[index]["transcript"]
    # An item still streaming keeps this cut when its response finishes.
    meta["truncated_ms"] = end_ms
    session.truncations.append({"item_id": item_id, "audio_end_ms": end_ms})
    await session.send(
        "conversation.item.truncated", item_id=item_id, content_index=index, audio_end_ms=end_ms
    )


async def _item_or_error(
    session: EmulatedSession, event: dict, verb: str, doing: str
) -> dict | None:
    """The item the event names, or None after answering the error the real API gives."""
    item_id = event.get("item_id")
    item = session.find_item(item_id) if item_id else None
    if item is None:
        await session.send_error(
            error(
                f"item_{verb}_invalid_item_id",
                f"Error {doing} item: the item with id '{item_id}' does not exist.",
                "item_id",
                event.get("event_id"),
            )
        )
    return item


async def delete(session: EmulatedSession, event: dict) -> None:
    item = await _item_or_error(session, event, "delete", "deleting")
    if item is None:
        return
    item_id = item["id"]
    session.items.remove(item)
    session.item_meta.pop(item_id, None)
    await session.send("conversation.item.deleted", item_id=item_id)


async def retrieve(session: EmulatedSession, event: dict) -> None:
    item = await _item_or_error(session, event, "retrieve", "retrieving")
    if item is None:
        return
    item_id = item["id"]
    out = copy.deepcopy(item)
    meta = session.item_meta.get(item_id, {})
    if meta.get("samples") is not None:
        # like the real API, include the (post-VAD) audio of user input items
        audio = encode(meta["samples"], meta.get("format"))
        out["content"][0]["audio"] = base64.b64encode(audio).decode()
    await session.send("conversation.item.retrieved", item=out)
