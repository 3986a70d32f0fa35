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


# Lateness below this is clock noise (and inaudible), not a late chunk.
_ON_TIME_S = 0.001


class GapMeter:
    """Breaks in the bot's speech, from when its audio arrives against real time. Under load
    this is what a caller notices first (choppy audio), before any turn goes unanswered.

    A line plays what it has at real time: the audio received so far ends playing at
    ``play_end``. A chunk that arrives after that is *late*, and the caller hears the gap
    between (a phone has no more buffer than what the bot sent ahead). A silence longer
    than ``utterance_break_s`` is the end of one utterance and the start of another (the
    caller talks in between), not a gap; a clear (barge-in) ends an utterance too.
    Arrival, not the caller's own 20 ms frame clock, is the measure: a harness that falls
    behind its frame clock must not count the bot's audio as late.
    """

    def __init__(self, utterance_break_s: float = 1.0, heard_over_s: float = 0.04) -> None:
        self.utterance_break_s = utterance_break_s
        self.heard_over_s = heard_over_s
        self.gaps_s: list[float] = []
        self.resumed_at_s: list[float] = []  # when each late chunk arrived
        self._play_end: float | None = None

    def arrived(self, at_s: float, audio_s: float) -> None:
        """``audio_s`` seconds of bot audio arrived at ``at_s`` (seconds, any fixed origin)."""
        if audio_s <= 0:
            return
        end = self._play_end
        if end is not None and at_s > end + _ON_TIME_S:
            gap = at_s - end
            if gap <= self.utterance_break_s:
                self.gaps_s.append(gap)
                self.resumed_at_s.append(at_s)
            end = None
        self._play_end = (at_s if end is None else end) + audio_s

    def cleared(self) -> None:
        self._play_end = None

    @property
    def late_chunks(self) -> int:
        """Chunks that arrived after the audio before them had finished playing."""
        return len(self.gaps_s)

    @property
    def heard_gaps(self) -> int:
        return sum(1 for gap in self.gaps_s if gap > self.heard_over_s)
