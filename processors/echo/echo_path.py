"""The echo path: a short least-squares filter around the echo delay, what it misses (the
*leak*), and the filter the detector left behind when the delay last moved.

The filter spans ``TAPS`` samples (6 ms: the telephone band-pass and short room
reflections), solved by block least squares with ~0.7 s memory, regularised at 10 % of the
mean tap energy over its first 8 frames and 1 % after (see ``_REGULARISATION``). Its
prediction is trusted after ``MIN_ADAPT_FRAMES`` frames of learning.

**Kept when the delay moves.** A delay search now and then lands on a caller's onset and
moves the delay away for a search or two (100-200 ms), then back. Starting the filter over
each time costs twice: the fresh filter is untrusted (the input is judged at 0 dB) and it
then learns from frames the caller is talking over (double talk), so it partly cancels the
caller or predicts echo louder than the input. The filter in use when the delay moved is
kept; if the delay comes back to its lag, its statistics and its leak come back with it (a
background filter taken back when it is clearly the right one). It must still prove itself
for ``MIN_ADAPT_FRAMES`` frames, as a new one must: the room tail has no history of what it
would have predicted meanwhile. A moved echo (a timing slip or a step, ``delay.py``) and a
new bot turn forget it: the timing it was fitted to is gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TAPS = 48  # 6 ms of echo path around the delay: telephone band-pass and a short room
PRE_TAPS = 8  # the filter starts this many samples before the correlation peak
MIN_ADAPT_FRAMES = 4  # filter frames accumulated before its prediction is trusted
_FORGET = 0.97  # per-frame memory of the echo-path statistics (~0.7 s)
# Ridge weight, as a share of the mean tap energy: 1 % (less, and a speakerphone's 0 dB,
# reverberant echo blew the solution up to predict echo 10 dB louder than the input); 10 %
# over the first 8 frames, when a few frames of speech-like far audio leave the statistics
# ill-conditioned and a caller talking over them (double talk) was fitted as echo along the
# weakly excited directions: predicted echo 10-20 dB over the real one hid the caller.
_REGULARISATION = 1e-2
_FIRST_REGULARISATION = 0.1
_FIRST_FRAMES = 8
_SAME_LAG = 2  # samples: a delay back within this of the kept filter's is its delay


@dataclass
class _Kept:
    delay: int
    r: np.ndarray
    p: np.ndarray
    w: np.ndarray
    leak: float


@dataclass
class EchoPath:
    """Per-call echo-path filter state (float64 statistics, float32 taps for the products)."""

    r: np.ndarray = field(default_factory=lambda: np.zeros((TAPS, TAPS)))
    p: np.ndarray = field(default_factory=lambda: np.zeros(TAPS))
    w: np.ndarray = field(default_factory=lambda: np.zeros(TAPS))
    w32: np.ndarray = field(default_factory=lambda: np.zeros(TAPS, dtype=np.float32))
    adapted: int = 0
    leak: float = 1.0  # residual / predicted echo on echo frames: 0 dB until learned
    _kept: _Kept | None = None

    @property
    def trusted(self) -> bool:
        return self.adapted >= MIN_ADAPT_FRAMES

    def reset(self, *, forget_kept: bool = False) -> None:
        """Start over (the delay moved, or the bot starts a new turn: ``forget_kept``, the
        phone's playout restarted and no earlier filter is to be trusted)."""
        self.r = np.zeros((TAPS, TAPS))
        self.p = np.zeros(TAPS)
        self.w = np.zeros(TAPS)
        self.w32 = np.zeros(TAPS, dtype=np.float32)
        self.adapted = 0
        self.leak = 1.0
        if forget_kept:
            self._kept = None

    def delay_moved(self, old: int | None, new: int) -> int:
        """The delay moved from ``old`` to ``new``: keep this filter if it was trusted, start
        over, or take back the filter kept at ``new``'s lag. Returns the delay to use (the
        kept filter's own lag when it comes back)."""
        back = self._kept if self._kept and abs(self._kept.delay - new) <= _SAME_LAG else None
        self._kept = (
            _Kept(old, self.r, self.p, self.w, self.leak)
            if old is not None and self.trusted
            else None
        )
        self.reset()
        if back is None:
            return new
        self.r, self.p, self.w, self.leak = back.r, back.p, back.w, back.leak
        self.w32 = self.w.astype(np.float32)
        return back.delay

    def learn(self, x: np.ndarray, near: np.ndarray) -> None:
        """One frame's regressors (rows: the far samples that can echo into each input
        sample) and input; the taps are solved every other frame."""
        self.r *= _FORGET
        self.r += x.T @ x
        self.p *= _FORGET
        self.p += x.T @ near.astype(np.float32)
        self.adapted += 1
        if self.adapted % 2 == 0:
            regularised = self.r.copy()
            weight = _FIRST_REGULARISATION if self.adapted <= _FIRST_FRAMES else _REGULARISATION
            regularised.flat[:: TAPS + 1] += weight * np.trace(self.r) / TAPS + 1e-6
            self.w = np.linalg.solve(regularised, self.p)
            self.w32 = self.w.astype(np.float32)

    def learn_leak(self, ratio: float) -> None:
        """One echo frame's residual over predicted echo (capped at 0 dB by the caller)."""
        self.leak = min(max(0.9 * self.leak + 0.1 * ratio, 1e-3), 1.0)
