"""One live chan_websocket call: Asterisk's handling of what the bot sends, and the caller.

The command branches follow handle_command() in channels/chan_websocket.c (master, Aug 2026);
the queue is sim.asterisk.queue, the message formats sim.asterisk.control. Media direction
(``d()`` dial option, SET_MEDIA_DIRECTION; 20.19/22.9/23.3+) is the application's point of view:
"in" stops the channel timer (nothing is dequeued) and drops the bot's BINARY messages, "out"
stops caller audio (webchan_write returns early).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import TYPE_CHECKING

import numpy as np
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from sim.asterisk.codecs import PTIME_MS
from sim.asterisk.control import (
    Command,
    ControlFormat,
    Event,
    Rejected,
    buffering_completed,
    error,
    mark_processed,
    parse_command,
    render,
)
from sim.asterisk.line import CallEnded, CallerLine
from sim.asterisk.queue import QUEUE_LENGTH_XOFF_LEVEL, QUEUE_LENGTH_XON_LEVEL, FrameQueue
from sim.asterisk.result import AsteriskCallResult
from sim.phone.steps import Say

if TYPE_CHECKING:
    from sim.asterisk.websocket_channel import AsteriskWebSocketCall

MAX_RX_FRAME = 65535  # AST_WEBSOCKET_MAX_RX_PAYLOAD_SIZE (8192 in LOW_MEMORY builds)
DIRECTIONS = ("both", "out", "in")
# Commands refused with an ERROR while the media direction is "in" (the app only listens).
_NEEDS_OUTPUT = (
    "START_MEDIA_BUFFERING",
    "STOP_MEDIA_BUFFERING",
    "MARK_MEDIA",
    "PAUSE_MEDIA",
    "CONTINUE_MEDIA",
)


def wire_frame_size(payload_len: int) -> int:
    """Bytes of an unmasked server frame: what ast_websocket_read() checks."""
    extended = 0 if payload_len < 126 else 2 if payload_len < 65536 else 8
    return 2 + extended + payload_len


class WebSocketSession(CallerLine):
    """State of one live chan_websocket call."""

    def __init__(self, call: AsteriskWebSocketCall, result: AsteriskCallResult) -> None:
        super().__init__(
            result,
            call.codec.rate,
            call.steps,
            call.wait_for_greeting_s,
            call.echo,
            call.record_path,
        )
        self.call = call
        self.codec = call.codec
        self.format = call.format
        self.queue = FrameQueue(call.codec.optimal_frame_size)
        self.direction = call.media_direction
        self.answered = call.auto_answer
        self.stale_window = False  # a FLUSH_MEDIA came while the caller was talking
        self.ws: ClientConnection | None = None
        self.wake = asyncio.Event()  # the bot answered, or the socket closed

    async def run(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.t0 = time.monotonic()  # result times count from MEDIA_START
        self.result.started_at_unix = time.time()
        receiver: asyncio.Task[None] | None = None
        try:
            await self.send_event(
                Event(
                    "MEDIA_START",
                    {
                        "connection_id": self.call.connection_id,
                        "channel": self.call.channel,
                        "format": self.codec.name,
                        "optimal_frame_size": self.codec.optimal_frame_size,
                        "ptime": PTIME_MS,
                        **({"channel_variables": self.call.variables()} if self.is_json else {}),
                    },
                )
            )
            receiver = asyncio.create_task(self.receive())
            if not self.answered:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.call.answer_timeout_s)
            self.result.answered = self.answered
            if not self.answered:
                if not self.ended:
                    self.result.errors.append("no ANSWER from the bot (dialled with n)")
                return
            self.start_clock()
            await self.run_script()
        except CallEnded:
            pass
        finally:
            await self.hang_up("caller", 1000)
            if receiver is not None:
                try:
                    await asyncio.wait_for(receiver, timeout=2.0)
                except TimeoutError:
                    receiver.cancel()
            self.copy_counters()
            self.result.close_code = ws.close_code
            self.finish()

    def copy_counters(self) -> None:
        counters, result = self.queue.counters, self.result
        result.xoff, result.xon = counters.xoff, counters.xon
        result.queue_drained = counters.queue_drained
        result.max_queue_frames = counters.max_length
        result.messages_dropped_queue_full = counters.messages_dropped_full
        result.bytes_dropped_queue_full = counters.bytes_dropped_full
        result.partial_frames_dropped = counters.partial_frames_dropped
        result.partial_bytes_dropped = counters.partial_bytes_dropped
        result.short_frames_played = counters.short_frames_played
        result.frames_flushed = counters.frames_flushed
        result.marks_flushed = counters.marks_flushed

    @property
    def is_json(self) -> bool:
        return self.format is ControlFormat.JSON

    async def hang_up(self, by: str, code: int) -> None:
        """Asterisk hangs the channel up: webchan_hangup closes the socket with ``code``."""
        if self.result.closed_by is None:
            self.result.closed_by = by
        self.ended = True
        assert self.ws is not None
        await self.ws.close(code)

    # -- CallerLine hooks -----------------------------------------------------------------

    async def send_frame(self, samples: np.ndarray) -> None:
        if self.direction == "out":
            return  # webchan_write: "The app doesn't want media right now"
        await self.send(self.codec.encode(samples))

    async def send_dtmf(self, digit: str) -> None:
        await self.send_event(Event("DTMF_END", {"digit": digit}))

    async def next_played(self) -> tuple[np.ndarray, bool]:
        if self.direction == "in":
            return self.silence, False  # no channel timer: nothing is dequeued
        tick = self.queue.tick()
        for event in tick.events:
            if event.name == "MEDIA_MARK_PROCESSED":
                self.result.marks_answered += 1
                self.result.mark_names.append(event.fields["correlation_id"] or "")
            elif event.name == "MEDIA_BUFFERING_COMPLETED":
                self.result.buffering_completed += 1
            await self.send_event(event)
        if tick.frame is None:
            return self.silence, False
        samples = self.codec.decode(tick.frame.data)[: self.frame_samples]
        if samples.size < self.frame_samples:
            samples = np.concatenate([samples, self.silence[samples.size :]])
        return samples, tick.frame.stale

    def queued_frames(self) -> int:
        return self.queue.length + (1 if self.queue.leftover_bytes else 0)

    async def say(self, step: Say) -> None:
        await super().say(step)
        self.stale_window = False  # a new answer may start once the caller stops talking

    # -- wire -----------------------------------------------------------------------------

    async def send(self, message: str | bytes) -> None:
        assert self.ws is not None
        try:
            await self.ws.send(message)
        except ConnectionClosed as exc:
            self.ended = True
            raise CallEnded from exc

    async def send_event(self, event: Event) -> None:
        await self.send(render(event, self.format, self.call.channel_id))

    async def receive(self) -> None:
        assert self.ws is not None
        try:
            async for message in self.ws:
                size = wire_frame_size(
                    len(message if isinstance(message, bytes) else message.encode())
                )
                if size > MAX_RX_FRAME:
                    self.result.errors.append(
                        f"{self.now():.3f}s frame of {size} bytes > {MAX_RX_FRAME}: "
                        "Asterisk closes with 1009 and hangs up"
                    )
                    await self.hang_up("caller", 1009)
                    return
                if isinstance(message, bytes):
                    await self.on_binary(message)
                else:
                    await self.on_text(message)
        except (ConnectionClosed, CallEnded):
            pass
        finally:
            if self.result.closed_by is None:
                self.result.closed_by = "server"
            self.ended = True
            self.wake.set()

    async def on_binary(self, data: bytes) -> None:
        if self.direction == "in":
            self.result.binary_dropped_direction += 1
            return
        self.on_bot_audio(self.codec.decode(data))
        for event in self.queue.push_media(data, stale=self.stale_window):
            await self.send_event(event)

    async def on_text(self, text: str) -> None:
        parsed = parse_command(text, self.format)
        if isinstance(parsed, Rejected):
            self.result.control_ignored.append(parsed.reason)
            if parsed.reply is not None:
                await self.send_error(parsed.reply.fields["error_text"])
            return
        await self.handle(parsed)

    async def send_error(self, text: str) -> None:
        self.result.errors_sent.append(text)
        await self.send_event(error(text))

    async def handle(self, cmd: Command) -> None:
        """handle_command(), one branch per command in the source's order."""
        name = cmd.name
        if name in _NEEDS_OUTPUT and self.direction == "in":
            await self.send_error(f"{name} not supported while media direction is 'in'")
            return
        if name == "ANSWER":
            self.answered = True
            self.wake.set()
        elif name == "HANGUP":
            self.result.hangup_received = True
            await self.hang_up("server", 1000)
        elif name == "START_MEDIA_BUFFERING":
            self.queue.bulk = True
        elif name == "STOP_MEDIA_BUFFERING":
            done = buffering_completed(cmd.correlation_id, self.format)
            for event in self.queue.stop_buffering(done):
                await self.send_event(event)
        elif name == "MARK_MEDIA":
            self.queue.push_event(mark_processed(cmd.correlation_id, self.format))
        elif name == "FLUSH_MEDIA":
            self.queue.flush()
            self.result.clears += 1
            self.result.clear_times_s.append(self.now())
            self.stale_window = self.stale_window or self.speaking
        elif name == "REPORT_QUEUE_DRAINED":
            self.queue.report_drained = True
        elif name == "GET_STATUS":
            self.result.status_replies += 1
            await self.send_event(self.status())
        elif name == "PAUSE_MEDIA":
            self.queue.paused = True
        elif name == "CONTINUE_MEDIA":
            self.queue.paused = False
        elif name == "SET_MEDIA_DIRECTION":
            await self.set_direction(cmd)
        else:
            self.result.control_ignored.append(f"unknown command {name!r}")

    async def set_direction(self, cmd: Command) -> None:
        # The error texts end in "\n" in the source; kept.
        direction = cmd.string("direction")
        if not self.is_json:
            await self.send_error("SET_MEDIA_DIRECTION only supports JSON format.\n")
        elif direction is None:
            await self.send_error("SET_MEDIA_DIRECTION requires a 'direction' parameter.\n")
        elif direction not in DIRECTIONS:
            await self.send_error(
                f"'{direction}' is not a valid direction for SET_MEDIA_DIRECTION.\n"
            )
        else:
            self.direction = direction

    def status(self) -> Event:
        return Event(
            "STATUS",
            {
                "queue_length": self.queue.length,
                "xon_level": QUEUE_LENGTH_XON_LEVEL,
                "xoff_level": QUEUE_LENGTH_XOFF_LEVEL,
                "queue_full": self.queue.queue_full,
                "bulk_media": self.queue.bulk,
                "media_paused": self.queue.paused,
            },
        )
