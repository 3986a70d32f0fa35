"""The newest N samples of a stream, kept without moving N samples on every append.

The echo detector looks at the last quarter second of input and the last ~0.9 s of played
audio, and appends 20 ms at a time: shifting the whole history down on each append was one
of the biggest single costs in a loaded server's profile. Here the window slides along a
buffer twice its length and is copied back to the start only when it reaches the end, so an
append costs what it adds, on average.
"""

import numpy as np


class SlidingWindow:
    """``view`` is always the newest ``size`` samples, oldest first (zeros before any)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._buf = np.zeros(2 * size, dtype=np.float64)
        self._start = 0
        self.view = self._buf[:size]

    def push(self, samples: np.ndarray) -> None:
        n, size = samples.size, self._size
        end = self._start + size
        if n >= size:
            self._buf[:size] = samples[-size:]
            self._start = 0
        elif end + n <= self._buf.size:
            self._buf[end : end + n] = samples
            self._start += n
        else:
            keep = size - n
            self._buf[:keep] = self._buf[end - keep : end]
            self._buf[keep:size] = samples
            self._start = 0
        self.view = self._buf[self._start : self._start + size]
