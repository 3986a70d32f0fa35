"""The phone's jitter/playout buffer: bot audio is played at real time, not as it arrives.

Bots send audio faster than real time; a real network queues it and plays 8 kHz samples
at wall-clock rate. The caller's frame clock pulls one 20 ms frame per tick, so "what the
caller heard" and "when" are both defined by this buffer.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class PlayoutBuffer:
    def __init__(self) -> None:
        # Audio chunks and mark names in arrival order; marks are reached once the audio
        # queued before them has been played.
        self._items: deque[np.ndarray | str] = deque()
        self._queued = 0

    @property
    def queued_samples(self) -> int:
        return self._queued

    def push_audio(self, samples: np.ndarray) -> None:
        if samples.size:
            self._items.append(samples.astype(np.int16, copy=False))
            self._queued += samples.size

    def push_mark(self, name: str) -> None:
        self._items.append(name)

    def clear(self) -> list[str]:
        """Drop queued audio; returns the marks that were still pending."""
        pending = [item for item in self._items if isinstance(item, str)]
        self._items.clear()
        self._queued = 0
        return pending

    def pull(self, n: int) -> tuple[np.ndarray, list[str]]:
        """Play ``n`` samples (zero-padded when starved); also return marks reached."""
        out = np.zeros(n, dtype=np.int16)
        filled = 0
        reached: list[str] = []
        while self._items:
            head = self._items[0]
            if isinstance(head, str):
                reached.append(head)
                self._items.popleft()
                continue
            if filled == n:
                break
            take = min(n - filled, head.size)
            out[filled : filled + take] = head[:take]
            filled += take
            self._queued -= take
            if take == head.size:
                self._items.popleft()
            else:
                self._items[0] = head[take:]
        return out, reached


class EchoLine:
    """Delays and attenuates played-out audio, as a speakerphone leaks it into the mic."""

    def __init__(self, delay_samples: int, gain: float) -> None:
        self._pending = np.zeros(max(0, delay_samples), dtype=np.int16)
        self._gain = gain

    def process(self, played: np.ndarray) -> np.ndarray:
        self._pending = np.concatenate([self._pending, played.astype(np.int16)])
        out, self._pending = self._pending[: played.size], self._pending[played.size :]
        return np.clip(out.astype(np.float64) * self._gain, -32768, 32767).astype(np.int16)


class GapMeter:
    """Breaks in the bot's speech as the caller hears them: the playout ran dry mid-reply and
    the next chunk came late. Under load this is what a caller notices first (choppy audio),
    before any turn goes unanswered.

    Fed once per 20 ms tick with how much bot audio played in it. A silence of the playout
    longer than ``utterance_break_s`` is the end of one utterance and the start of another
    (the caller talks in between), not a gap; a clear (barge-in) ends an utterance too.
    """

    def __init__(self, utterance_break_s: float = 1.0, heard_over_s: float = 0.04) -> None:
        self.utterance_break_s = utterance_break_s
        self.heard_over_s = heard_over_s
        self.gaps_s: list[float] = []
        self.resumed_at_s: list[float] = []  # when playback resumed after each gap
        self._audio_end_s: float | None = None  # play time the last bot audio ended
        self._starved = False

    def played(self, start_s: float, audio_s: float, frame_s: float) -> None:
        """``audio_s`` seconds of bot audio played from ``start_s`` in a tick of ``frame_s``."""
        if audio_s <= 0:
            if self._audio_end_s is not None:
                self._starved = True
            return
        if self._starved and self._audio_end_s is not None:
            gap = start_s - self._audio_end_s
            if 0 < gap <= self.utterance_break_s:
                self.gaps_s.append(gap)
                self.resumed_at_s.append(start_s)
        self._starved = audio_s < frame_s
        self._audio_end_s = start_s + audio_s

    def cleared(self) -> None:
        self._audio_end_s = None
        self._starved = False

    @property
    def late_chunks(self) -> int:
        """Chunks that arrived after the audio before them had finished playing."""
        return len(self.gaps_s)

    @property
    def heard_gaps(self) -> int:
        return sum(1 for gap in self.gaps_s if gap > self.heard_over_s)
