"""Per-connection state machine of the emulated Realtime model."""

from __future__ import annotations

import json
import time
from typing import Any

import numpy as np
from loguru import logger

from sim.realtime import conversation, lifecycle, planner
from sim.realtime.audio import format_rate
from sim.realtime.config import EmulatorConfig
from sim.realtime.conformance import event_problems
from sim.realtime.faults import Faults
from sim.realtime.ids import new_id
from sim.realtime.input_audio import InputAudioMixin
from sim.realtime.responses import ResponseRun
from sim.realtime.schema import (
    default_session,
    default_transcription_session,
    error,
    merge_session,
    validate_session_update,
    voice_change,
)
from sim.realtime.script import TurnProgress
from sim.realtime.vad import EnergyVAD

CLIENT_EVENT_TYPES = (
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
)


class EmulatedSession(InputAudioMixin):
    """State of one accepted connection. Tests inspect the public attributes."""

    def __init__(
        self,
        index: int,
        model: str,
        emulator_config: EmulatorConfig,
        faults: Faults,
        ws: Any = None,
        transcription_only: bool = False,
    ) -> None:
        self.index = index
        self.id = new_id("sess_")
        self.model = model
        self.emulator_config = emulator_config
        self.faults = faults
        self.ws = ws
        self.conversation_id = new_id("conv_")
        self.connected_at = time.time()
        expires = int(self.connected_at + emulator_config.session_cap_s)
        # `?intent=transcription`: input audio is transcribed, the model never answers.
        self.transcription_only = transcription_only
        self.config: dict = (
            default_transcription_session(self.id, expires)
            if transcription_only
            else default_session(model, self.id, expires)
        )
        self.items: list[dict] = []
        self.item_meta: dict[str, dict] = {}
        self.client_events: list[dict] = []
        self.server_events: list[dict] = []
        # time.time() each server event was sent, by position in server_events.
        self.server_event_times: list[float] = []
        self.conformance_errors: list[str] = []
        self.cancellations: list[dict] = []
        self.truncations: list[dict] = []
        self.responses: list[dict] = []
        self.closed = False
        self.close_code: int | None = None
        self.closed_at: float | None = None  # time.time() when the connection ended
        self.user_turns = 0
        self.counted_user_item: str | None = None  # the user message counted last
        self.response_count = 0
        self.reply_index = 0
        self.turn_progress: dict[int, TurnProgress] = {}  # per scripted user turn
        self.silent_calls: set[str] = set()  # call_ids whose output gets an empty response
        self.last_input_tokens = 0
        self.output_audio_started = False
        self.active: ResponseRun | None = None  # the one response writing the conversation
        self.out_of_band: set[ResponseRun] = set()  # `conversation: "none"` responses
        # Audio time from which server VAD's idle_timeout_ms counts (after the last response).
        self.idle_since_ms = 0
        # input audio, in the input format's native rate
        self.audio_ms = 0  # total audio appended during the session (audio time)
        self._samples_in = 0
        self._buffer = np.zeros(0, dtype=np.int16)
        self._buffer_start_ms = 0
        self._speech: dict | None = None  # {"item_id", "start_ms"}
        self._vad: EnergyVAD | None = None
        self._rebuild_vad()

    # ----------------------------------------------------------------- sending
    async def send(self, etype: str, **fields: Any) -> dict:
        event = {"type": etype, "event_id": new_id("event_"), **fields}
        if self.emulator_config.strict_events:
            problems = event_problems(event)
            if problems:
                self.conformance_errors.extend(problems)
                logger.error(f"realtime emulator sent a non-conforming event: {problems}")
                raise AssertionError("; ".join(problems))
        self.server_events.append(event)
        self.server_event_times.append(time.time())
        if self.ws is not None and not self.closed:
            await self.ws.send(json.dumps(event))
        return event

    async def send_error(self, err: dict) -> None:
        await self.send("error", error=err)

    # ------------------------------------------------------------ item store
    def last_item_id(self) -> str | None:
        return self.items[-1]["id"] if self.items else None

    def append_item(self, item: dict, previous_item_id: str | None = None) -> str | None:
        """Insert ``item`` (after ``previous_item_id`` or at the end); returns its predecessor."""
        if previous_item_id is None:
            prev = self.last_item_id()
            self.items.append(item)
            return prev
        if previous_item_id == "root":
            self.items.insert(0, item)
            return None
        pos = next(i for i, it in enumerate(self.items) if it["id"] == previous_item_id)
        self.items.insert(pos + 1, item)
        return previous_item_id

    def replace_item(self, item: dict) -> None:
        for i, it in enumerate(self.items):
            if it["id"] == item["id"]:
                self.items[i] = item
                return

    def find_item(self, item_id: str) -> dict | None:
        return next((it for it in self.items if it.get("id") == item_id), None)

    # ---------------------------------------------------------------- dispatch
    async def handle_message(self, raw: str | bytes) -> None:
        try:
            event = json.loads(raw)
            if not isinstance(event, dict):
                raise ValueError("not an object")
        except (ValueError, UnicodeDecodeError):
            await self.send_error(
                error(
                    "invalid_json",
                    "Expected a JSON object, but the given message could not be parsed as JSON.",
                )
            )
            return
        self.client_events.append(event)
        etype = event.get("type")
        handler = getattr(self, "_on_" + str(etype).replace(".", "_"), None)
        if etype not in CLIENT_EVENT_TYPES or handler is None:
            supported = ", ".join(f"'{t}'" for t in CLIENT_EVENT_TYPES)
            await self.send_error(
                error(
                    "unknown_event_type",
                    f"Invalid value: '{etype}'. Supported values are: {supported}.",
                    "type",
                    event.get("event_id"),
                )
            )
            return
        await handler(event)

    # ----------------------------------------------------------------- session
    async def _on_session_update(self, event: dict) -> None:
        if self.faults.no_session_updated:
            return
        err = validate_session_update(event)
        if (
            err is None
            and self.output_audio_started
            and voice_change(self.config, event["session"])
        ):
            err = error(
                "cannot_update_voice",
                "Cannot update a conversation's voice if assistant audio is present.",
                "session.audio.output.voice",
                event.get("event_id"),
            )
        if err is not None:
            await self.send_error(err)
            return
        wanted_type = event["session"]["type"]
        if wanted_type != self.config["type"]:
            # The real API fixes the type when the connection opens (`?intent=`); switching
            # here lets a client that says `type: transcription` after connecting carry on.
            self.transcription_only = wanted_type == "transcription"
            base = default_transcription_session if self.transcription_only else None
            self.config = (
                base(self.id, self.config.get("expires_at", 0))
                if base
                else default_session(self.model, self.id, self.config.get("expires_at", 0))
            )
        old_in = self.config["audio"]["input"]
        self.config = merge_session(self.config, event["session"])
        new_in = self.config["audio"]["input"]
        if (old_in.get("turn_detection"), old_in.get("format")) != (
            new_in.get("turn_detection"),
            new_in.get("format"),
        ):
            if old_in.get("format") != new_in.get("format"):
                self._buffer = np.zeros(0, dtype=np.int16)
                self._buffer_start_ms = self.audio_ms
                self._samples_in = self.audio_ms * format_rate(new_in.get("format")) // 1000
            self._rebuild_vad()
        await self.send("session.updated", session=self.config)

    # ------------------------------------------------------------ conversation
    async def _on_conversation_item_create(self, event: dict) -> None:
        await conversation.create(self, event)

    async def _on_conversation_item_truncate(self, event: dict) -> None:
        await conversation.truncate(self, event)

    async def _on_conversation_item_delete(self, event: dict) -> None:
        await conversation.delete(self, event)

    async def _on_conversation_item_retrieve(self, event: dict) -> None:
        await conversation.retrieve(self, event)

    # --------------------------------------------------------------- responses
    async def _on_response_create(self, event: dict) -> None:
        await lifecycle.create(self, event)

    async def _on_response_cancel(self, event: dict) -> None:
        await lifecycle.cancel(self, event)

    def count_typed_turn(self) -> None:
        """A response asked for right after a user message the client created is that
        message's turn, so a text-only client plays the same script as an audio one. Only
        the latest item counts: a client restating its history (Pipecat's first response,
        a reconnect) adds many user messages but asks for one reply, and a response after
        a function output continues the turn it belongs to. A message telling the model to
        ``Say exactly:`` a line is the bot scripting the model, not the user taking a turn."""
        last = self.items[-1] if self.items else {}
        if planner.SAY_EXACTLY in planner.text_of(last):
            return  # an instruction to voice a line (a greeting, a re-prompt), not the user
        if last.get("role") == "user" and last.get("id") != self.counted_user_item:
            self.user_turns += 1
            self.counted_user_item = last.get("id")

    async def start_response(self, params: dict) -> None:
        await lifecycle.start(self, params)

    async def cancel_active(self, reason: str) -> None:
        if self.active is not None:
            await lifecycle.stop(self, self.active, reason)

    def response_finished(self, run: ResponseRun) -> None:
        """Server VAD's idle timeout counts from the end of the last response's audio."""
        if run.in_conversation:
            played_ms = self.item_meta.get(_first_output_id(run), {}).get("audio_ms", 0)
            self.idle_since_ms = max(self.idle_since_ms, self.audio_ms + played_ms)

    async def shutdown(self) -> None:
        self.closed = True
        await lifecycle.shutdown(self)


def _first_output_id(run: ResponseRun) -> str:
    output = run.response.get("output") or [{}]
    return output[0].get("id") or ""
