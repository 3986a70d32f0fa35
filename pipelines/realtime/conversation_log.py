"""What the model knows: the server-side conversation, kept so a new socket can be re-seeded.

Pipecat's service keeps an LLMContext, which holds what *Pipecat* sent (the greeting
instruction, tool results) but not what the server made of the caller's audio or the
exact words of each reply. A new Realtime session starts empty, so this log follows the
server's own item events and turns every item into one ``conversation.item.create`` that
says the same thing as text. Audio cannot be re-sent as items, so user audio becomes its
transcript and assistant audio the transcript of what was generated.
"""

from collections.abc import Iterator
from typing import Any

from pipecat.services.openai.realtime import events

UNTRANSCRIBED = "[caller audio, not transcribed]"
_SERVER_FIELDS = ("object", "status")


class ConversationLog:
    """Items in server order, by id. Feed it every relevant server event."""

    def __init__(self) -> None:
        self._order: list[str] = []
        self._items: dict[str, dict[str, Any]] = {}
        self._reply_text: dict[str, str] = {}  # assistant transcript so far, by item id

    def __len__(self) -> int:
        return len(self._order)

    def ids(self) -> list[str]:
        return list(self._order)

    def upsert(self, item: dict[str, Any], previous_item_id: str | None = None) -> None:
        item_id = item.get("id")
        if not item_id:
            return
        if item_id not in self._items:
            if previous_item_id in self._items:
                self._order.insert(self._order.index(previous_item_id) + 1, item_id)
            else:
                self._order.append(item_id)
        self._items[item_id] = _merge(self._items.get(item_id), item)

    def remove(self, item_id: str) -> None:
        if item_id in self._items:
            self._order.remove(item_id)
            del self._items[item_id]
        self._reply_text.pop(item_id, None)

    def set_user_transcript(self, item_id: str, transcript: str) -> None:
        item = self._items.get(item_id)
        if item is None:
            return
        for part in item.get("content") or []:
            if part.get("type") == "input_audio":
                part["transcript"] = transcript

    def add_reply_text(self, item_id: str, delta: str) -> None:
        self._reply_text[item_id] = self._reply_text.get(item_id, "") + delta

    def replay_items(self) -> list[dict[str, Any]]:
        """``conversation.item.create`` payloads re-stating every item, in order."""
        out = []
        for item_id in self._order:
            item = _as_create(self._items[item_id], self._reply_text.get(item_id, ""))
            if item is not None:
                out.append(item)
        return out


def _merge(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old or {})
    for key, value in new.items():
        # A later event can carry `transcript: null` for a part an earlier one filled in.
        if key == "content" and old and not value:
            continue
        if key == "content" and old and old.get("content"):
            value = [_merge_part(a, b) for a, b in zip(old["content"], value, strict=False)] + [
                dict(p) for p in value[len(old["content"]) :]
            ]
        merged[key] = value
    return merged


def _merge_part(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    part = dict(old)
    part.update({k: v for k, v in new.items() if v is not None})
    return part


def _message_text(item: dict[str, Any], reply_so_far: str) -> str:
    texts = []
    for part in item.get("content") or []:
        text = part.get("text") if part.get("text") is not None else part.get("transcript")
        if text:
            texts.append(text)
    if not texts and item.get("role") == "assistant":
        return reply_so_far.strip()
    if not texts and item.get("role") == "user":
        return UNTRANSCRIBED
    return " ".join(texts).strip()


def _as_create(item: dict[str, Any], reply_so_far: str) -> dict[str, Any] | None:
    kind = item.get("type")
    base = {k: v for k, v in item.items() if k not in _SERVER_FIELDS}
    if kind == "function_call":
        keys = ("id", "type", "call_id", "name", "arguments")
        return {k: base.get(k) for k in keys if base.get(k) is not None}
    if kind == "function_call_output":
        keys = ("id", "type", "call_id", "output")
        return {k: base.get(k) for k in keys if base.get(k) is not None}
    if kind != "message":
        return None
    role = item.get("role")
    text = _message_text(item, reply_so_far)
    if not text:
        return None  # a reply cut before any word: nothing was said, nothing to restate
    part_type = "output_text" if role == "assistant" else "input_text"
    return {
        "id": item["id"],
        "type": "message",
        "role": role,
        "content": [{"type": part_type, "text": text}],
    }


class ConversationTracker:
    """The server's conversation as one call has seen it, across sessions: the log a new
    session is re-seeded from, items sent and not yet confirmed, restated items whose echo
    must not reach Pipecat as news, and caller turns whose transcript is still due."""

    def __init__(self) -> None:
        self._log = ConversationLog()
        self._unacked: dict[str, dict[str, Any]] = {}  # item id → the create event we sent
        self._replayed: set[str] = set()
        self._awaiting_transcript: set[str] = set()

    @property
    def settled(self) -> bool:
        """Everything sent is confirmed and every caller turn is transcribed."""
        return not self._unacked and not self._awaiting_transcript

    def sent(self, item_id: str, message: dict[str, Any]) -> None:
        self._unacked[item_id] = message

    def take_unacked(self) -> list[dict[str, Any]]:
        """Items the old session never confirmed, in the order they were sent."""
        unacked = list(self._unacked.values())
        self._unacked.clear()
        return unacked

    def replay(self) -> Iterator[dict[str, Any]]:
        """The log's items for a new session; their echoes are then known as restated."""
        for item in self._log.replay_items():
            self._replayed.add(item["id"])
            yield item

    def transcript_due(self, item_id: str) -> None:
        self._awaiting_transcript.add(item_id)

    def observe(self, evt: events.ServerEvent) -> bool:
        """Follow one server event; False for the echo of a restated item."""
        etype = evt.type
        if etype in ("conversation.item.added", "conversation.item.done"):
            self._log.upsert(evt.item.model_dump(exclude_none=True), evt.previous_item_id)
            self._unacked.pop(evt.item.id, None)
            if evt.item.id in self._replayed:
                if etype == "conversation.item.done":
                    self._replayed.discard(evt.item.id)
                return False
        elif etype == "conversation.item.retrieved":
            item = evt.item.model_dump(exclude_none=True)
            for part in item.get("content") or []:
                part.pop("audio", None)
            self._log.upsert(item)
        elif etype == "conversation.item.deleted":
            self._log.remove(evt.item_id)
        elif etype == "conversation.item.input_audio_transcription.completed":
            self._log.set_user_transcript(evt.item_id, evt.transcript)
            self._awaiting_transcript.discard(evt.item_id)
        elif etype == "conversation.item.input_audio_transcription.failed":
            self._awaiting_transcript.discard(evt.item_id)
        elif etype == "response.output_audio_transcript.delta":
            self._log.add_reply_text(evt.item_id, evt.delta)
        return True
