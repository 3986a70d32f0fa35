"""Input audio buffer: append/commit/clear, server VAD turns, its idle timeout, and fixture
transcription (with logprobs when the session includes them)."""

from __future__ import annotations

import asyncio
import base64
import binascii
from typing import TYPE_CHECKING

import numpy as np

from sim.realtime.audio import decode, format_rate
from sim.realtime.ids import new_id
from sim.realtime.recognizer import recognise
from sim.realtime.schema import error
from sim.realtime.vad import EnergyVAD

IDLE_BUFFER_MS = 2000  # audio kept while no speech is in progress (VAD mode)
LOGPROBS = "item.input_audio_transcription.logprobs"
# Made-up but plausible: a recognised fixture is near-certain, anything else is a guess.
SURE_LOGPROB, UNSURE_LOGPROB = -0.01, -2.5

if TYPE_CHECKING:
    from sim.realtime.session import EmulatedSession as _Base
else:
    _Base = object


class InputAudioMixin(_Base):
    """Methods of :class:`EmulatedSession` that handle ``input_audio_buffer.*``."""

    def _rebuild_vad(self) -> None:
        td = self.config["audio"]["input"].get("turn_detection")
        rate = format_rate(self.config["audio"]["input"].get("format"))
        self._speech = None
        self._vad = EnergyVAD(td, rate, base_ms=self.audio_ms) if td else None

    # ------------------------------------------------------------ input audio
    async def _on_input_audio_buffer_append(self, event: dict) -> None:
        try:
            data = base64.b64decode(event.get("audio") or "", validate=True)
        except (binascii.Error, ValueError):
            await self.send_error(
                error(
                    "invalid_value",
                    "Invalid 'audio'. Expected base64-encoded audio bytes.",
                    "audio",
                    event.get("event_id"),
                )
            )
            return
        fmt = self.config["audio"]["input"].get("format")
        rate = format_rate(fmt)
        samples = decode(data, fmt)
        self._buffer = np.concatenate([self._buffer, samples])
        self._samples_in += len(samples)
        self.audio_ms = self._samples_in * 1000 // rate
        if self._vad is None:
            return
        for vad_event in self._vad.feed(samples):
            if vad_event.kind == "start":
                await self._speech_started(vad_event.ms)
            else:
                await self._speech_stopped(vad_event.ms)
        if self._speech is None:
            await self._check_idle_timeout()
        if self._speech is None:
            keep_from = self.audio_ms - IDLE_BUFFER_MS
            if keep_from > self._buffer_start_ms:
                drop = (keep_from - self._buffer_start_ms) * rate // 1000
                self._buffer = self._buffer[drop:]
                self._buffer_start_ms = keep_from

    async def _speech_started(self, start_ms: int) -> None:
        item_id = new_id("item_")
        self._speech = {"item_id": item_id, "start_ms": start_ms}
        await self.send(
            "input_audio_buffer.speech_started", audio_start_ms=start_ms, item_id=item_id
        )
        td = self.config["audio"]["input"].get("turn_detection") or {}
        if self.active is not None and td.get("interrupt_response", True) is not False:
            await self.cancel_active("turn_detected")

    async def _speech_stopped(self, end_ms: int) -> None:
        speech = self._speech or {"item_id": new_id("item_"), "start_ms": self._buffer_start_ms}
        self._speech = None
        await self.send(
            "input_audio_buffer.speech_stopped", audio_end_ms=end_ms, item_id=speech["item_id"]
        )
        await self._commit(speech["item_id"], speech["start_ms"], end_ms)
        await self._respond_to_turn()

    async def _respond_to_turn(self) -> None:
        td = self.config["audio"]["input"].get("turn_detection") or {}
        answers = td.get("create_response", True) is not False and not self.transcription_only
        if answers and self.active is None:
            await self.start_response({})

    async def _check_idle_timeout(self) -> None:
        """Server VAD's ``idle_timeout_ms``, on audio time: that long without speech after
        the last response's audio commits the silence as a turn and asks for a response."""
        td = self.config["audio"]["input"].get("turn_detection") or {}
        timeout = td.get("idle_timeout_ms")
        if td.get("type") != "server_vad" or not timeout or self.active is not None:
            return
        start_ms = self.idle_since_ms
        if self.audio_ms - start_ms < timeout:
            return
        item_id = new_id("item_")
        self.idle_since_ms = self.audio_ms  # one timeout per silence, even with no response
        await self.send(
            "input_audio_buffer.timeout_triggered",
            audio_start_ms=start_ms,
            audio_end_ms=self.audio_ms,
            item_id=item_id,
        )
        if self._vad is not None:
            self._vad.reset(self.audio_ms)
        await self._commit(item_id, max(start_ms, self._buffer_start_ms), self.audio_ms)
        await self._respond_to_turn()

    async def _commit(self, item_id: str, start_ms: int, end_ms: int) -> None:
        fmt = self.config["audio"]["input"].get("format")
        rate = format_rate(fmt)
        lo = max(0, (start_ms - self._buffer_start_ms) * rate // 1000)
        hi = max(lo, (end_ms - self._buffer_start_ms) * rate // 1000)
        segment = self._buffer[lo:hi]
        self._buffer = self._buffer[hi:]
        self._buffer_start_ms = max(end_ms, self._buffer_start_ms)
        prev = self.last_item_id()
        await self.send("input_audio_buffer.committed", previous_item_id=prev, item_id=item_id)
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self.append_item(item)
        self.user_turns += 1
        self.counted_user_item = item_id
        self.idle_since_ms = max(self.idle_since_ms, end_ms)
        self.item_meta[item_id] = {
            "audio_ms": len(segment) * 1000 // rate,
            "samples": segment,
            "rate": rate,
            "format": fmt,
        }
        await self.send("conversation.item.added", previous_item_id=prev, item=item)
        await self.send("conversation.item.done", previous_item_id=prev, item=item)
        if self.config["audio"]["input"].get("transcription"):
            await self._transcribe(item, segment, rate)

    async def _transcribe(self, item: dict, segment: np.ndarray, rate: int) -> None:
        extra_dirs = tuple(str(d) for d in self.emulator_config.caller_clip_dirs)
        result = await asyncio.to_thread(recognise, segment, rate, extra_dirs)
        transcript = result.transcript
        self.item_meta[item["id"]]["recognised_clip"] = result.clip
        wants_logprobs = LOGPROBS in (self.config.get("include") or [])
        logprob = SURE_LOGPROB if result.clip else UNSURE_LOGPROB
        every: list[dict] = []
        for word in transcript.split(" ") if transcript else []:
            delta = word + " "
            extra: dict = {}
            if wants_logprobs:
                extra["logprobs"] = [_logprob(delta, logprob)]
                every += extra["logprobs"]
            await self.send(
                "conversation.item.input_audio_transcription.delta",
                item_id=item["id"],
                content_index=0,
                delta=delta,
                **extra,
            )
        item["content"][0]["transcript"] = transcript
        await self.send(
            "conversation.item.input_audio_transcription.completed",
            item_id=item["id"],
            content_index=0,
            transcript=transcript,
            usage={"type": "duration", "seconds": round(len(segment) / rate, 2)},
            **({"logprobs": every} if wants_logprobs else {}),
        )

    async def _on_input_audio_buffer_commit(self, event: dict) -> None:
        rate = format_rate(self.config["audio"]["input"].get("format"))
        buffered_ms = len(self._buffer) * 1000 / rate
        if buffered_ms < 100:
            await self.send_error(
                error(
                    "input_audio_buffer_commit_empty",
                    "Error committing input audio buffer: buffer too small. Expected at least "
                    f"100ms of audio, but buffer only has {buffered_ms:.2f}ms of audio.",
                    None,
                    event.get("event_id"),
                )
            )
            return
        item_id = self._speech["item_id"] if self._speech else new_id("item_")
        self._speech = None
        if self._vad is not None:
            self._vad.reset(self.audio_ms)
        await self._commit(item_id, self._buffer_start_ms, self.audio_ms)

    async def _on_input_audio_buffer_clear(self, event: dict) -> None:
        self._buffer = np.zeros(0, dtype=np.int16)
        self._buffer_start_ms = self.audio_ms
        self._speech = None
        if self._vad is not None:
            self._vad.reset(self.audio_ms)
        await self.send("input_audio_buffer.cleared")


def _logprob(token: str, logprob: float) -> dict:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode())}
