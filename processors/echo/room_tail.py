"""The room's reverberant tail, in power: how much of the bot's earlier words still rings on
the input, learned per 20 ms of lag.

A speakerphone returns the bot's voice with a room response of 150-400 ms (RT60), about as
loud as the direct sound. The detector's echo filter spans 6 ms around the delay, so all of
that tail is left in its residual, and it is the sum of what every recent word left ringing,
not the decay of the last one. Here the tail's power is predicted as a weighted sum of the
echo powers the filter predicted over the last ``TAIL_FRAMES`` frames, and the weights are
learned (normalised LMS, in power, kept non-negative) from what the filter leaves unexplained
on frames judged echo. A dry line (a handset, a hybrid) learns weights near zero within a
second of bot speech; a ringing room learns its own decay. The weights start at a tail
3 dB down per frame from -5 dB, the model that judged rooms before anything was learned.

Per frame this is two dot products of ``TAIL_FRAMES`` values: far cheaper than a long
sample-domain filter, and enough for a decision that is taken in 8 dB steps.
"""

import numpy as np

TAIL_FRAMES = 20  # 400 ms: the longest room tail the families model
_START_GAIN = 0.3  # -5 dB one frame after the words ...
_START_DECAY = 0.5  # ... falling 3 dB per frame
# NLMS steps: the weights fall fast where the room is drier than assumed and rise slowly, so
# a caller's onset misjudged as echo teaches it little that the room rings. A fall moves only
# the lags still above zero (0.3 over them let a speakerphone's tail fall under its real one).
_STEP_UP = 0.05
_STEP_DOWN = 0.2
# The most a room can ring: twice the starting tail (-2 dB one frame on), falling at least
# 3 dB a frame (a 400 ms RT60). Without a ceiling per lag, lags that held little echo would
# take the blame for a loud frame the model missed and keep it.
_CEILING_GAIN = 2 * _START_GAIN


class RoomTail:
    """Powers are int16-scale mean squares, as the detector's."""

    def __init__(self) -> None:
        shape = _START_DECAY ** np.arange(TAIL_FRAMES)
        self.weights = _START_GAIN * shape
        self._ceiling = _CEILING_GAIN * shape
        # history[0] is the previous frame's predicted echo power, history[j] j+1 frames ago.
        self._history = np.zeros(TAIL_FRAMES)

    def estimate(self) -> float:
        """The tail's power expected on this frame, from the echo predicted on earlier ones."""
        return float(self.weights @ self._history)

    def learn(self, unexplained: float, estimate: float) -> None:
        """``unexplained``: the residual's power this frame beyond noise and the filter's leak
        (what the room must account for); ``estimate``: what :meth:`estimate` gave for it."""
        error = max(unexplained, 0.0) - estimate
        history = self._history
        if error < 0:
            # Only the weights above zero can fall: normalised over all of the history, most
            # of the step went to lags already at zero (and clipped back), and a lag that
            # rings far less than assumed took a second to learn it.
            history = np.where(self.weights > 0.0, history, 0.0)
        energy = float(history @ history)
        if energy <= 0.0:
            return
        step = _STEP_UP if error > 0 else _STEP_DOWN
        self.weights += (step * error / energy) * history
        np.clip(self.weights, 0.0, self._ceiling, out=self.weights)

    def push(self, echo_power: float) -> None:
        """This frame's predicted echo (0 while the filter isn't trusted) joins the history."""
        self._history[1:] = self._history[:-1]
        self._history[0] = echo_power

    def clear(self) -> None:
        """Nothing rings any more (the bot was silent longer than the tail)."""
        self._history[:] = 0.0
