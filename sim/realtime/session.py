"""Per-connection state machine of the emulated Realtime model."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import numpy as np
from loguru import logger
from websockets.exceptions import ConnectionClosed

from sim.realtime import conversation
from sim.realtime.audio import format_rate
from sim.realtime.config import EmulatorConfig
from sim.realtime.conformance import event_problems
from sim.realtime.faults import Faults
from sim.realtime.ids import new_id
from sim.realtime.input_audio import InputAudioMixin
from sim.realtime.responses import (
    ResponseRun,
    plan_response,
    stream_function_call,
    stream_message,
    usage,
)
from sim.realtime.schema import (
    default_session,
    error,
    merge_session,
    validate_session_update,
    voice_change,
)
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
IDLE_BUFFER_MS = 2000  # audio kept while no speech is in progress (VAD mode)


class EmulatedSession(InputAudioMixin):
    """State of one accepted connection. Tests inspect the public attributes."""

    def __init__(
        self,
        index: int,
        model: str,
        emulator_config: EmulatorConfig,
        faults: Faults,
        ws: Any = None,
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
        self.config: dict = default_session(model, self.id, expires)
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
        self.response_count = 0
        self.reply_index = 0
        self.fired_function_turns: set[int] = set()
        self.silent_calls: set[str] = set()  # call_ids whose output gets an empty response
        self.last_input_tokens = 0
        self.output_audio_started = False
        self.active: ResponseRun | None = None
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
        if self.active is not None:
            await self.send_error(
                error(
                    "conversation_already_has_active_response",
                    f"Conversation already has an active response in progress: {self.active.id}. "
                    "Wait until the response is finished before creating a new one.",
                    None,
                    event.get("event_id"),
                )
            )
            return
        await self.start_response(event.get("response") or {})

    async def _on_response_cancel(self, event: dict) -> None:
        if self.active is None:
            await self.send_error(
                error(
                    "response_cancel_not_active",
                    "Cancellation failed: no active response found.",
                    None,
                    event.get("event_id"),
                )
            )
            return
        await self.cancel_active("client_cancelled")

    async def start_response(self, params: dict) -> None:
        out_cfg = self.config["audio"]["output"]
        run = ResponseRun(id=new_id("resp_"), plan=plan_response(self, params))
        run.response = {
            "object": "realtime.response",
            "id": run.id,
            "status": "in_progress",
            "status_details": None,
            "output": [],
            "conversation_id": self.conversation_id,
            "output_modalities": self.config.get("output_modalities") or ["audio"],
            "max_output_tokens": self.config.get("max_output_tokens", "inf"),
            "audio": {"output": {"format": out_cfg["format"], "voice": out_cfg["voice"]}},
            "usage": None,
            "metadata": params.get("metadata"),
        }
        self.active = run
        self.response_count += 1
        await self.send("response.created", response=dict(run.response))
        run.task = asyncio.create_task(self._run_response(run))

    async def _run_response(self, run: ResponseRun) -> None:
        try:
            if run.plan.function_call is not None:
                await stream_function_call(self, run)
            elif run.plan.silent:
                run.response["usage"] = usage(self, 0, "")
            else:
                await stream_message(self, run)
            if run.cancel_reason:
                run.response["status"] = "cancelled"
                run.response["status_details"] = {"type": "cancelled", "reason": run.cancel_reason}
            else:
                run.response["status"] = "completed"
            self.responses.append(run.response)
            await self.send("response.done", response=run.response)
        except ConnectionClosed:
            # The client hung up mid-response (a call ending): normal, nothing to report.
            logger.debug(f"realtime emulator response {run.id}: client closed the socket")
        except Exception as exc:  # never let a response task die silently
            if not self.closed:
                logger.exception(f"realtime emulator response {run.id} failed: {exc}")
        finally:
            if self.active is run:
                self.active = None

    async def cancel_active(self, reason: str) -> None:
        run = self.active
        if run is None:
            return
        run.cancel_reason = reason
        run.wake.set()
        self.cancellations.append({"response_id": run.id, "reason": reason, "at_ms": self.audio_ms})
        if run.task is not None:
            await asyncio.shield(run.task)

    async def shutdown(self) -> None:
        self.closed = True
        run = self.active
        if run is not None and run.task is not None:
            run.task.cancel()
            try:
                await run.task
            except (asyncio.CancelledError, Exception):
                pass
