"""The newest N samples of a stream, kept without moving N samples on every append.

The echo detector looks at the last quarter second of input and the last ~0.9 s of played
audio, and appends 20 ms at a time: shifting the whole history down on each append was one
of the biggest single costs in a loaded server's profile. Here the window slides along a
buffer twice its length and is copied back to the start only when it reaches the end, so an
append costs what it adds, on average.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


class SlidingWindow:
    """``view`` is always the newest ``size`` samples, oldest first (zeros before any)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._buf = np.zeros(2 * size, dtype=np.float64)
        self._start = 0
        self.view = self._buf[:size]
        self._rows: dict[int, np.ndarray] = {}

    def rows(self, first: int, count: int, width: int) -> np.ndarray:
        """``count`` overlapping rows of ``width`` samples, row ``r`` = ``view[first + r :
        first + r + width]``: a view, from one strided view of the buffer made once (making a
        strided view costs more than the slice)."""
        if width not in self._rows:
            self._rows[width] = sliding_window_view(self._buf, width)
        start = self._start + first
        return self._rows[width][start : start + count]

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
