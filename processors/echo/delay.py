"""Where the bot's echo sits on the input: the echo delay, found and followed.

- **Search** (:meth:`EchoDelay.search`): the last 256 ms of input cross-correlated (FFT,
  PHAT-weighted so pitch harmonics don't make false peaks) with the far audio up to
  ``max_lag``; a first estimate needs a normalised correlation of 0.5, or two agreeing ones
  of 0.25. The detector runs it every 100 ms while only echo is present, every 500 ms once it
  has confirmed the same delay three times.
- **A moved echo** (:meth:`EchoDelay.moved`): playback timing slips (a phone's playout, a
  jitter buffer underrunning) or the delay steps (a jitter buffer resizing, a re-routed
  call). A search's quarter second would still be full of the old delay, so a residual
  that looks like speech is checked on its newest 40 ms against the echo the filter would
  predict at every lag: a clear match elsewhere is the new delay at once.
- **Echo that shows up late** (:meth:`EchoDelay.found_now`) and **a slipped echo under the
  timing guard** (:meth:`EchoDelay.residual_is_echo`): the same 40 ms test, for the
  detector's other two doubts.

Sample lags at 8 kHz; the windows are the detector's own, shared, not copied.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from processors.echo.correlation import fft_size, normalised_correlation
from processors.echo.sliding_window import SlidingWindow

SEARCH_WINDOW = 2048  # 256 ms of input correlated against the far history
CHECK_WINDOW = 320  # 40 ms: the newest input the quick checks look at
_ACCEPT_CORR = 0.5  # normalised correlation that makes a first delay estimate believable
CONFIRM_CORR = 0.25  # weaker estimates count when two in a row agree
_SLIP_REACH = 480  # +-60 ms: a playback-timing slip
_SHIFT_CORR = 0.8  # caller speech at the echo's level gives ~0.7, a shifted echo ~0.9+
_STEP_CORR = 0.85  # beyond a slip's reach (a delay step) the match must be closer
_MOVED_MARGIN = 0.3  # a moved echo matches its new lag this much better than the old
_SLIPPED_CORR = 0.65  # a residual the bot's audio explains this well is a slipped echo


def _power(samples: np.ndarray) -> float:
    return float(samples @ samples) / samples.size


class EchoDelay:
    """``delay``: the echo delay in samples, ``None`` until found. ``confirmed``: searches
    in a row that found it again (the detector resets it with its echo filter)."""

    def __init__(
        self,
        max_lag: int,
        near: SlidingWindow,
        far: SlidingWindow,
        residual: SlidingWindow,
        filter_span: tuple[int, int],
    ) -> None:
        self.max_lag = max_lag
        self._near_window, self._far_window, self._residual_window = near, far, residual
        self._pre_taps, self._taps = filter_span
        self._n_fft = fft_size(SEARCH_WINDOW + max_lag)
        self.delay: int | None = None
        self._candidate: int | None = None
        self.confirmed = 0

    def set(self, lag: int) -> None:
        self._candidate = self.delay = lag

    def search(self, floor: float, noise: float) -> tuple[int, float] | None:
        """The lag at which the input best matches the far audio, and the normalised
        correlation there; ``None`` when either side is too quiet to tell."""
        window, max_lag = SEARCH_WINDOW, self.max_lag
        near = self._near_window.view
        far = self._far_window.view[-(window + max_lag) :]
        if _power(far[-window:]) < floor or _power(near) < 1.5 * noise:
            return None
        cross = np.fft.rfft(near, self._n_fft) * np.conj(np.fft.rfft(far, self._n_fft))
        cross /= np.abs(cross) ** 0.8 + 1e-9  # PHAT-like: sharp peaks despite pitch harmonics
        corr = np.fft.irfft(cross, self._n_fft)
        # corr[m] = sum_j near[j + m] far[j]; lag k (near lags far by k) sits at m = k - max_lag.
        lag = int(np.argmax(corr[np.arange(max_lag + 1) - max_lag]))
        aligned = far[max_lag - lag : max_lag - lag + window]
        denom = float(np.sqrt((near @ near) * (aligned @ aligned))) + 1e-9
        return lag, float(near @ aligned) / denom

    def update(self, floor: float, noise: float) -> bool:
        """One search; ``True`` when it moved the delay (the echo filter must start over)."""
        found = self.search(floor, noise)
        if found is None:
            return False
        lag, rho = found
        agrees = self._candidate is not None and abs(lag - self._candidate) <= 4
        self._candidate = lag
        if rho < CONFIRM_CORR or (rho < _ACCEPT_CORR and not agrees):
            return False
        if self.delay is None or abs(lag - self.delay) > 2:
            self.delay = lag
            return True
        self.confirmed += 1
        return False

    def found_now(self, floor: float, noise: float) -> bool:
        """Before any delay is known: is speech-like input the bot's audio after all?

        Echo that starts abruptly (a start-of-call backlog ending, a caller switching to the
        speakerphone) fills only the newest frames of the search's window, too little for its
        acceptance test; so the lag it finds is checked on the newest 40 ms alone: echo
        matches the bot's audio there, caller speech does not. ``True``: that lag is now the
        delay."""
        found = self.search(floor, noise)
        if found is None:
            return False
        lag, n = found[0], CHECK_WINDOW
        residual = self._residual_window.view[-n:]
        far = self._far_window.view
        far = far[far.size - lag - n : far.size - lag]
        rho = float(residual @ far) / (float(np.sqrt((residual @ residual) * (far @ far))) + 1e-9)
        if rho < _SHIFT_CORR:
            return False
        self.set(lag)
        return True

    def moved(self, w: np.ndarray | None) -> Literal["moved", "slipped"] | None:
        """Is a speech-like frame the bot's audio at a lag the echo model does not have?

        The newest 40 ms of input are correlated with the echo the filter ``w`` would predict
        (the raw far audio while ``w`` is not trusted) at every lag: a caller, even over the
        echo, matches nowhere above 0.8; a moved echo does, at its new lag. ``"moved"``: that
        lag is now the delay (the filter must start over). ``"slipped"``: no better lag, but
        the residual at the delay is itself the far audio (the model misses its own echo;
        search at once). ``None``: a caller."""
        n, max_lag = CHECK_WINDOW, self.max_lag
        far = self._far_window.view
        far = far[far.size - n - max_lag :]
        if w is not None:
            # Through the echo filter, as the echo would be at each lag: the line's band-pass
            # and the room make the raw far audio a poorer match than its prediction.
            rho = self._predicted_correlation(w, n)
        else:
            rho = normalised_correlation(far, self._near_window.view[-n:])
        best = int(np.argmax(rho))
        lag = max_lag - best
        # Far from the delay, many more lags could match 40 ms of speech by chance (a voiced
        # sound at the same pitch): a step must match better than a slip.
        needed = _SHIFT_CORR if abs(lag - self.delay) <= _SLIP_REACH else _STEP_CORR
        if float(rho[best]) <= needed:
            return None
        at_delay = float(rho[min(max(max_lag - self.delay, 0), rho.size - 1)])
        if lag != self.delay and float(rho[best]) - at_delay >= _MOVED_MARGIN:
            # (A pitch period away, voiced speech matches nearly as well as at its delay: a
            # moved echo leaves nothing at the old one. One sample is a move too: the filter
            # was fitted sample by sample, and a line's clock can slip by one.)
            self.set(lag)
            return "moved"
        residual = self._residual_window.view[-n:]
        aligned = far[best : best + n]
        denom = float(np.sqrt((residual @ residual) * (aligned @ aligned))) + 1e-9
        return "slipped" if float(residual @ aligned) / denom > _SHIFT_CORR else None

    def residual_is_echo(self, reach: int) -> bool:
        """Does the newest 40 ms of residual match the bot's audio within ``reach`` samples of
        the delay? Then the echo slipped (by less than the timing guard covers); a quiet
        caller's residual matches nowhere there."""
        n, far = CHECK_WINDOW, self._far_window.view
        lo = max(far.size - self.delay - reach - n, 0)
        hi = max(far.size - self.delay + reach, lo + n)
        rho = normalised_correlation(far[lo:hi], self._residual_window.view[-n:])
        return float(np.abs(rho).max()) > _SLIPPED_CORR

    def _predicted_correlation(self, w: np.ndarray, n: int) -> np.ndarray:
        """Normalised correlation of the newest ``n`` input samples with the echo the filter
        would predict at every delay from ``max_lag`` down to the filter's lead (index =
        max_lag - delay; the few shortest delays are left at 0)."""
        far = self._far_window.view
        filtered = np.correlate(far, w, "valid")  # [j] = sum_i w[i] far[j + i]
        # The prediction at delay L for input sample t is filtered[t - (L - pre_taps + taps
        # - 1)]: over the newest n samples and every L, this stretch.
        hi = far.size - self._taps + 1
        lo = hi - n - self.max_lag + self._pre_taps
        rho = normalised_correlation(filtered[lo:hi], self._near_window.view[-n:])
        out = np.zeros(self.max_lag + 1)
        out[: rho.size] = rho
        return out
