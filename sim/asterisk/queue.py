"""chan_websocket's frame queue: how Asterisk buffers and paces what the bot sends.

Transcribed from channels/chan_websocket.c (master, Aug 2026; same numbers since 20.16):

* process_binary_message(): if ``frame_queue_length >= QUEUE_LENGTH_MAX`` (1000) when a
  BINARY message arrives, the whole message is ignored (the check is per message, so one
  big message can push the queue past 1000). Otherwise the payload is cut into
  ``optimal_frame_size`` frames. A trailing partial frame is silently discarded unless
  START_MEDIA_BUFFERING is in effect, in which case it waits in ``leftover_data`` for the
  next message (and STOP_MEDIA_BUFFERING queues it as a short frame).
* queue_frame_from_buffer(): every queued frame bumps the length; reaching
  ``QUEUE_LENGTH_XOFF_LEVEL`` (900) sends MEDIA_XOFF once (``queue_full``).
* dequeue_frame(), once per 20 ms timer tick: nothing while PAUSE_MEDIA is in effect; else
  MEDIA_XON first if ``queue_full`` and the length is below ``QUEUE_LENGTH_XON_LEVEL``
  (800); on an empty queue QUEUE_DRAINED if REPORT_QUEUE_DRAINED asked for it (one-shot);
  queued control frames (MARK_MEDIA's MEDIA_MARK_PROCESSED, MEDIA_BUFFERING_COMPLETED) are
  sent as they are reached without using up the tick, then one audio frame is played.
* webchan_read(): a tick that finds no frame plays the buffering leftover, if any, as a
  short frame (since "Use leftover data if no frames are available", Jun 2026).
* FLUSH_MEDIA drops every queued frame — control frames too, so a pending mark is never
  answered — resets the length, ends buffering and drops the leftover; ``queue_full`` is
  left set, so the next tick sends MEDIA_XON.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from sim.asterisk.control import Event

QUEUE_LENGTH_MAX = 1000
QUEUE_LENGTH_XOFF_LEVEL = 900
QUEUE_LENGTH_XON_LEVEL = 800


@dataclass
class QueuedFrame:
    """One frame of bot audio. ``stale`` marks audio the bot sent after a FLUSH_MEDIA while
    the caller was still talking over it (see AsteriskCallResult.heard_after_flush_s)."""

    data: bytes
    stale: bool = False


@dataclass
class QueueCounters:
    xoff: int = 0
    xon: int = 0
    queue_drained: int = 0
    max_length: int = 0
    messages_dropped_full: int = 0
    bytes_dropped_full: int = 0
    partial_frames_dropped: int = 0
    partial_bytes_dropped: int = 0
    short_frames_played: int = 0
    frames_flushed: int = 0
    marks_flushed: int = 0


@dataclass
class Tick:
    """What one timer tick did: the frame played (None: nothing) and the events sent."""

    frame: QueuedFrame | None
    events: list[Event] = field(default_factory=list)


class FrameQueue:
    def __init__(self, frame_size: int) -> None:
        self.frame_size = frame_size
        self.counters = QueueCounters()
        self.length = 0  # frame_queue_length: audio frames only, control frames not counted
        self.queue_full = False
        self.paused = False
        self.bulk = False
        self.report_drained = False
        self._items: deque[QueuedFrame | Event] = deque()
        self._leftover = b""
        self._leftover_stale = False

    @property
    def leftover_bytes(self) -> int:
        return len(self._leftover)

    def push_media(self, payload: bytes, stale: bool = False) -> list[Event]:
        """One BINARY message from the bot; returns the events to send at once (XOFF)."""
        events: list[Event] = []
        if self.length >= QUEUE_LENGTH_MAX:
            self.counters.messages_dropped_full += 1
            self.counters.bytes_dropped_full += len(payload)
            return events
        size = self.frame_size
        start = 0
        if self.bulk and self._leftover:
            take = min(size - len(self._leftover), len(payload))
            self._leftover += payload[:take]
            self._leftover_stale = self._leftover_stale or stale
            if len(self._leftover) < size:
                return events
            self._queue(QueuedFrame(self._leftover, self._leftover_stale), events)
            self._leftover = b""
            start = take
        if not self.bulk and self._leftover:
            self._drop_partial(len(self._leftover))
            self._leftover = b""
        end = start + (len(payload) - start) // size * size
        for offset in range(start, end, size):
            self._queue(QueuedFrame(payload[offset : offset + size], stale), events)
        if end < len(payload):
            if self.bulk:
                self._leftover, self._leftover_stale = payload[end:], stale
            else:
                self._drop_partial(len(payload) - end)
        return events

    def push_event(self, event: Event) -> None:
        """A control frame (queue_option_frame): sent when playout reaches it."""
        self._items.append(event)

    def stop_buffering(self, completed: Event) -> list[Event]:
        """STOP_MEDIA_BUFFERING: queue the leftover as a short frame, then the completion."""
        events: list[Event] = []
        self.bulk = False
        if self._leftover:
            self._queue(QueuedFrame(self._leftover, self._leftover_stale), events)
        self._leftover = b""
        self.push_event(completed)
        return events

    def flush(self) -> None:
        for item in self._items:
            if isinstance(item, Event):
                self.counters.marks_flushed += item.name == "MEDIA_MARK_PROCESSED"
            else:
                self.counters.frames_flushed += 1
        self._items.clear()
        self.length = 0
        self.bulk = False
        self._leftover = b""

    def tick(self) -> Tick:
        """One 20 ms timer tick (webchan_read on the timer fd)."""
        tick = Tick(None)
        if not self.paused:
            tick.frame = self._dequeue(tick.events)
        if tick.frame is None and self._leftover:
            tick.frame = QueuedFrame(self._leftover, self._leftover_stale)
            self._leftover = b""
        if tick.frame is not None and len(tick.frame.data) < self.frame_size:
            self.counters.short_frames_played += 1
        return tick

    def _dequeue(self, events: list[Event]) -> QueuedFrame | None:
        if self.queue_full and self.length < QUEUE_LENGTH_XON_LEVEL:
            self.queue_full = False
            self.counters.xon += 1
            events.append(Event("MEDIA_XON"))
        if not self._items:
            if self.report_drained:
                self.report_drained = False
                self.counters.queue_drained += 1
                events.append(Event("QUEUE_DRAINED"))
            return None
        while self._items and isinstance(self._items[0], Event):
            events.append(self._items.popleft())  # type: ignore[arg-type]
        if not self._items:
            return None
        self.length -= 1
        head = self._items.popleft()
        assert isinstance(head, QueuedFrame)
        return head

    def _queue(self, frame: QueuedFrame, events: list[Event]) -> None:
        self._items.append(frame)
        self.length += 1
        self.counters.max_length = max(self.counters.max_length, self.length)
        if not self.queue_full and self.length >= QUEUE_LENGTH_XOFF_LEVEL:
            self.queue_full = True
            self.counters.xoff += 1
            events.append(Event("MEDIA_XOFF"))

    def _drop_partial(self, size: int) -> None:
        self.counters.partial_frames_dropped += 1
        self.counters.partial_bytes_dropped += size
