"""The input's noise floor under the echo and the caller, tracked per 20 ms frame.

Three estimates, the largest wins:

- a tracker that falls fast and rises ~1 dB/s (only while no echo is predicted), so speech
  bursts barely lift it;
- the residual's minimum over the last 1.5 s (from 300 ms in): on a noisy line the caller,
  the bot and its echo all pause within that, the noise does not;
- on frames without echo to speak of, the residual's 40th percentile over the last 75 such
  frames: the floor of babble (other voices fluctuate 10 dB and more above their minimum).
"""

import numpy as np

_WINDOW = 75  # frames (1.5 s)
_MIN_FRAMES = 15  # the windowed estimates start once this many frames are in (300 ms)
_EVERY = 5  # frames between looks at the windows


class NoiseFloor:
    """Powers are int16-scale mean squares, as the detector's."""

    def __init__(self, start: float) -> None:
        self.power = start
        self._recent = np.full(_WINDOW, np.inf)
        self._recent_at = 0
        self._quiet = np.zeros(_WINDOW)
        self._quiet_at = 0

    def track(self, residual_power: float, echo_power: float) -> float:
        """One frame's residual (what the echo model left) and predicted echo; returns the
        floor after it."""
        if residual_power < self.power:
            self.power = 0.8 * self.power + 0.2 * residual_power
        elif echo_power < self.power:  # don't learn the floor from echo leak
            self.power *= 1.012
        self._recent[self._recent_at % _WINDOW] = residual_power
        self._recent_at += 1
        if self._recent_at >= _MIN_FRAMES and self._recent_at % _EVERY == 0:
            self.power = max(self.power, float(self._recent.min()))
        if echo_power < self.power:
            self._quiet[self._quiet_at % _WINDOW] = residual_power
            self._quiet_at += 1
            if self._quiet_at >= _MIN_FRAMES and self._quiet_at % _EVERY == 0:
                seen = self._quiet[: min(self._quiet_at, _WINDOW)]
                rank = seen.size * 2 // 5  # the 40th percentile
                self.power = max(self.power, float(np.partition(seen, rank)[rank]))
        self.power = max(self.power, 1.0)
        return self.power
