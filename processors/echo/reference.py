"""What the caller is hearing right now: the bot's audio on a wall-clock timeline.

The output transport hands audio to the line faster than real time (Pipecat's WebSocket
transports send at twice the playback rate) and the phone plays it at real time from its
playout buffer. So a chunk is *heard* when the previous one has finished, not when it was
sent: ``play`` schedules each chunk at ``max(now, end of the previous chunk)``. An
interruption makes the provider drop its queued audio (``clear``), so ``interrupt`` erases
everything scheduled after now.

One instance per call, shared by the tap after the output transport (writer) and the echo
gate after the input transport (reader), both on the pipeline's event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

ANALYSIS_RATE = 8000
# Bot audio may be queued this far ahead of playback (long replies sent at 2x); the ring
# starts small and doubles only as far as a call's replies actually queue ahead, because a
# full-size ring for every call is 2 MB of a live call's memory.
_CAPACITY_S = 64
_INITIAL_S = 4
_READ_MARGIN = 2 * ANALYSIS_RATE  # the gate reads at most this far into the past
# A transport pacing at real time hands over each chunk a few ms "late" (its own processing);
# the phone's jitter buffer plays on seamlessly, so a chunk this late still follows on directly.
_JITTER = ANALYSIS_RATE * 6 // 100


class EchoReference:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._t0 = clock()
        self._size = _INITIAL_S * ANALYSIS_RATE
        self._ring = np.zeros(self._size, dtype=np.float32)
        self._cursor = 0  # sample index where the next scheduled chunk starts playing
        self.last_audio_end = -(10**9)  # sample index where the latest bot audio ends

    def now_index(self) -> int:
        return round((self._clock() - self._t0) * ANALYSIS_RATE)

    def play(self, samples: np.ndarray) -> None:
        """Schedule 8 kHz float samples (int16 scale) to be heard after what is queued."""
        now = self.now_index()
        if self._cursor < now - _JITTER:
            self._clear(self._cursor, now)  # the line was idle: nothing was heard meanwhile
            self._cursor = now
        self._make_room(self._cursor - now + samples.size + _READ_MARGIN)
        n = min(samples.size, self._size - _READ_MARGIN - (self._cursor - now))
        if n <= 0:
            return
        self._write(self._cursor, samples[:n])
        self._cursor += n
        self.last_audio_end = self._cursor

    def interrupt(self) -> None:
        """The provider was told to drop queued audio: nothing after now will be heard."""
        now = self.now_index()
        if self._cursor > now:
            self._clear(now, self._cursor)
            self._cursor = now
            self.last_audio_end = min(self.last_audio_end, now)

    def window(self, end: int, n: int) -> np.ndarray:
        """The ``n`` samples heard just before sample index ``end``."""
        out = self._read(end - n, n)
        if end > self._cursor:  # not scheduled (yet): silence, never last lap's audio
            out[max(0, n - (end - self._cursor)) :] = 0.0
        return out

    def _spans(self, start: int, n: int) -> list[tuple[int, int, int]]:
        """(ring index, offset, length) pieces of ``n`` samples from ``start``: two at the seam."""
        lo = start % self._size
        first = min(n, self._size - lo)
        spans = [(lo, 0, first)]
        if first < n:
            spans.append((0, first, n - first))
        return spans

    def _read(self, start: int, n: int) -> np.ndarray:
        out = np.empty(n, dtype=np.float32)
        for lo, offset, length in self._spans(start, n):
            out[offset : offset + length] = self._ring[lo : lo + length]
        return out

    @property
    def capacity_s(self) -> float:
        """Seconds of audio the ring holds now (queued ahead plus the gate's read margin)."""
        return self._size / ANALYSIS_RATE

    def _make_room(self, needed: int) -> None:
        """Grow (doubling, up to the cap) so ``needed`` samples fit; keeps what is queued and
        the read margin behind now on the same absolute sample indices."""
        if needed <= self._size or self._size >= _CAPACITY_S * ANALYSIS_RATE:
            return
        size = self._size
        while size < needed and size < _CAPACITY_S * ANALYSIS_RATE:
            size *= 2
        size = min(size, _CAPACITY_S * ANALYSIS_RATE)
        held = np.arange(self._cursor - self._size, self._cursor)
        ring = np.zeros(size, dtype=np.float32)
        ring[held % size] = self._ring[held % self._size]
        self._ring, self._size = ring, size

    def _write(self, start: int, samples: np.ndarray) -> None:
        for lo, offset, length in self._spans(start, samples.size):
            self._ring[lo : lo + length] = samples[offset : offset + length]

    def _clear(self, start: int, end: int) -> None:
        if end > start:
            for lo, _, length in self._spans(start, min(end - start, self._size)):
                self._ring[lo : lo + length] = 0.0
