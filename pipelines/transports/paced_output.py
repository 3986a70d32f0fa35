"""Bot audio to a phone line: at real time, a bounded lead ahead, never stale.

Pipecat's WebSocket output sleeps one chunk after each write, and resets its clock when it
falls behind: each chunk leaves just as the one before it finishes playing, so any delay on
a busy event loop is a gap the caller hears, and the lost time is never made up. This
output keeps its own clock:

- **A bounded lead.** After a write the output waits until what is still unplayed drops to
  `lead_s`. AudioSocket writes whatever arrives straight to the caller (no queue, no
  flush), so there the lead is one 20 ms frame: at most two frames are ever in flight,
  and a barge-in is silent within ~40 ms of reaching the transport. chan_websocket has
  FLUSH_MEDIA, so there the lead is one chunk, for slack against scheduling jitter.
  Twilio, Telnyx and Plivo queue what they are sent and clear it at a barge-in, so there
  the lead is `AUDIO_OUT_LEAD_MS` (pipelines/transports/telephony.py): a stall shorter
  than that is not heard. The Realtime service truncates an interrupted reply at the time
  since its first audio, which is the played position as long as playback never ran dry.
- **Nothing stale after a barge-in.** Pipecat drops queued chunks on an interruption, but
  a chunk its audio task had already taken (or one waiting for MEDIA_XON) would still go
  out after the FLUSH_MEDIA. Chunks carry Pipecat's global, increasing frame id, so every
  chunk older than the interruption is dropped here instead of written.
- **The end of a call waits for the line.** `BotStoppedSpeakingFrame` still leaves when the
  last chunk is written, up to `lead_s` before the caller hears the end (waiting for the line
  there would stall the audio task and put a gap before a reply that follows at once). The
  hang-up does wait: it goes out on `EndFrame`, after the end-of-call silence has been
  written through this clock, i.e. after the farewell has played.
- **Hooks for the line's protocol** (`LineHooks`): wait before a write (XOFF), report
  after it (MARK_MEDIA), and hear when an utterance ends.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from pipecat.frames.frames import (
    BotStoppedSpeakingFrame,
    Frame,
    InterruptionFrame,
    OutputAudioRawFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.transports.websocket.fastapi import FastAPIWebsocketClient, FastAPIWebsocketParams
from pipecat.utils.utils import obj_id

from pipelines.transports.line import LineOutputTransport, LineTransport


class LineHooks(Protocol):
    async def ready_to_write(self) -> None:
        """Returns when the line may take more audio."""

    async def written(self, wire_bytes: int) -> None:
        """A chunk of ``wire_bytes`` went out."""

    def interrupted(self) -> None:
        """The caller barged in; queued audio is being dropped."""

    def utterance_ended(self) -> None:
        """The bot stopped speaking."""


class NoHooks:
    async def ready_to_write(self) -> None:
        return None

    async def written(self, wire_bytes: int) -> None:
        return None

    def interrupted(self) -> None:
        return None

    def utterance_ended(self) -> None:
        return None


class RealTimeClock:
    """When the audio written so far will have played, if the line plays it at real time."""

    def __init__(self, lead_s: float) -> None:
        self.lead_s = lead_s
        self._play_end = 0.0

    async def wrote(self, duration_s: float) -> None:
        now = time.monotonic()
        self._play_end = max(self._play_end, now) + duration_s
        wait = self._play_end - now - self.lead_s
        if wait > 0:
            await asyncio.sleep(wait)

    def unplayed_s(self) -> float:
        return max(0.0, self._play_end - time.monotonic())

    def reset(self) -> None:
        self._play_end = 0.0


class PacedOutputTransport(LineOutputTransport):
    def __init__(
        self,
        transport: LineTransport,
        client: FastAPIWebsocketClient,
        params: FastAPIWebsocketParams,
        *,
        write_timeout_s: float,
        lead_s: float,
        hooks: LineHooks,
        name: str | None = None,
    ) -> None:
        super().__init__(transport, client, params, write_timeout_s=write_timeout_s, name=name)
        self._socket = client
        self._serializer = params.serializer
        self._hooks = hooks
        self.clock = RealTimeClock(lead_s)
        self._stale_before = 0  # chunks with a smaller frame id predate the last barge-in
        self.stale_chunks_dropped = 0

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        if isinstance(frame, InterruptionFrame):
            # Before Pipecat's handling, which writes the serializer's FLUSH_MEDIA.
            self.barge_in()
        await super().process_frame(frame, direction)

    def barge_in(self) -> None:
        """From now on only chunks made after this moment are written."""
        self._stale_before = obj_id()
        self.clock.reset()
        self._hooks.interrupted()

    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM):
        if isinstance(frame, BotStoppedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            self._hooks.utterance_ended()
        await super().push_frame(frame, direction)

    async def write_line_audio(self, frame: OutputAudioRawFrame) -> bool:
        # False: not written, so Pipecat does not pass it on (the echo reference never sees
        # audio the caller was not played).
        if self._is_stale(frame):
            return False
        await self._hooks.ready_to_write()
        if self._is_stale(frame) or self._socket.is_closing or not self._socket.is_connected:
            return False
        if self._serializer is None:
            return False
        payload = await self._serializer.serialize(frame)
        if payload:
            await self._socket.send(payload)
            await self._hooks.written(len(payload))
        await self.clock.wrote(len(frame.audio) / (2 * frame.sample_rate * frame.num_channels))
        return True

    def _is_stale(self, frame: OutputAudioRawFrame) -> bool:
        if frame.id >= self._stale_before:
            return False
        self.stale_chunks_dropped += 1
        return True


class PacedLineTransport(LineTransport):
    """`LineTransport` whose output is a `PacedOutputTransport`."""

    def __init__(
        self, websocket, params: FastAPIWebsocketParams, *, lead_s: float, hooks: LineHooks
    ) -> None:
        self._lead_s = lead_s
        self._hooks = hooks
        super().__init__(websocket, params)

    def build_output(
        self,
        client: FastAPIWebsocketClient,
        params: FastAPIWebsocketParams,
        write_timeout_s: float,
        name: str | None,
    ) -> PacedOutputTransport:
        return PacedOutputTransport(
            self,
            client,
            params,
            write_timeout_s=write_timeout_s,
            lead_s=self._lead_s,
            hooks=self._hooks,
            name=name,
        )

    def output(self) -> PacedOutputTransport:
        output = super().output()
        assert isinstance(output, PacedOutputTransport)
        return output
