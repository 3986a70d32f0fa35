"""Per-20 ms decision: is the input the bot's own echo, or the caller talking?

From the bot's audio as the caller heard it (the *far* signal): the echo **delay**
(``delay.py``); a short least-squares **echo path** filter around it, whose prediction taken
from the input leaves the *residual* (and measures the ERL and the *leak*, what it misses);
the room's **tail** in power (``room_tail.py``). The residual is caller speech when it beats
``noise + max(leak x echo + tail, timing guard)`` by ``excess_db`` (between the two: unless it
matches the far audio near the delay, a slipped echo); nothing learns from the caller. Until
a delay is found the input must beat the loudest far frame that could be echoing, at an ERL
bound, and must not match the far audio (echo that shows up late); then 0 dB until the filter
has measured the ERL. Pure numpy on float samples (int16 scale) at 8 kHz; one per call.
"""

from __future__ import annotations

import numpy as np

from bot.config.echo import EchoThresholds
from processors.echo.delay import CONFIRM_CORR, SEARCH_WINDOW, EchoDelay
from processors.echo.echo_path import MIN_ADAPT_FRAMES, PRE_TAPS, TAPS, EchoPath
from processors.echo.noise_floor import NoiseFloor
from processors.echo.room_tail import RoomTail
from processors.echo.sliding_window import SlidingWindow
from processors.echo.verdict import FRAME, RATE, FrameVerdict, db_to_power

_XCORR_EVERY = 5  # frames between delay searches (100 ms)
_XCORR_EVERY_SETTLED = 25  # ... once the delay is settled (500 ms)
_SETTLED_CONFIRMATIONS = 3  # searches in a row that found the same delay
_GUARD_FRAMES = 2  # +-40 ms of playback-timing slip covered by the guard
_GUARD_GAIN = 10 ** (-12 / 10)
_BOUND_DECAY = 10 ** (-0.5 / 10)
_SHIFT_WINDOW = 480  # 60 ms of input checked against shifted far audio
_NOISY_MARGIN = 2.0  # a quiet caller under the timing guard: 3 dB more over the noise
# Before a delay is known, input unlike the bot's audio is a caller already talking when it
# is within 20 dB of what the ERL bound expects (further under it is the echo's own soft
# onset, a room's reverberation building up, too faint for the correlation to tell) and has
# gone on for 60 ms: the gate then opens 40 ms later, after 100 ms of it (a burst of babble
# on a noisy line lasts about 60).
_CALLER_UNDER_BOUND = 10 ** (-20 / 10)
_UNLIKE_FRAMES = 3


def _power(samples: np.ndarray) -> float:
    """Mean square. A dot product: np.mean's machinery cost more than the sum on 160 samples,
    and the detector takes several per 20 ms frame of every call."""
    return float(samples @ samples) / samples.size


def _frame_powers(samples: np.ndarray) -> np.ndarray:
    frames = samples.reshape(-1, FRAME)
    return np.einsum("ij,ij->i", frames, frames) / FRAME


class EchoDetector:
    def __init__(self, thresholds: EchoThresholds) -> None:
        self.t = thresholds
        self._max_lag = thresholds.max_delay_ms * RATE // 1000
        self._far_window = SlidingWindow(SEARCH_WINDOW + self._max_lag + TAPS + FRAME)
        self._near_window = SlidingWindow(SEARCH_WINDOW)
        # What the echo filter left of the input (the input itself while it is not trusted):
        # the checks that tell a moved echo from a caller look at this, so a caller quieter
        # than the echo is not taken for the echo it talks over.
        self._residual_window = SlidingWindow(_SHIFT_WINDOW)
        self._track = EchoDelay(
            self._max_lag,
            self._near_window,
            self._far_window,
            self._residual_window,
            (PRE_TAPS, TAPS),
        )
        # Room tail: what the bot's earlier words still ring on the input, learned per lag.
        self._room = RoomTail()
        self._far_frame_power = np.zeros(self._max_lag // FRAME + 2)
        self._excess = 10 ** (thresholds.excess_db / 10)
        self._doubt = 10 ** (thresholds.excess_db / 20)
        self._floor = db_to_power(thresholds.floor_dbfs)
        self._noise_floor = NoiseFloor(self._floor)
        self._noise = self._floor
        self._frames = 0
        self._erl = 1.0  # echo power / far power; 0 dB until measured
        self._erl_measured = False
        # Without a delay (no echo found yet, or none at all): how loud the input has been
        # next to the loudest far frame that could be echoing; peak-hold, decaying 0.5 dB/frame.
        self._erl_bound = 1.0
        self._unlike_run = 0  # frames in a row of input unlike the bot's audio, no delay known
        self._path = EchoPath()

    @property
    def delay(self) -> int | None:
        """The echo delay found on this call (samples), ``None`` until found."""
        return self._track.delay

    @property
    def _far(self) -> np.ndarray:
        """What the caller heard over the same time and the longest echo delay before it."""
        return self._far_window.view

    @property
    def noise_floor(self) -> float:
        """Tracked power of the input's background (int16 scale, squared)."""
        return self._noise

    def new_bot_turn(self) -> None:
        """The bot starts talking again after a silence. Playback timing may have moved (the
        phone's playout restarts on its own frame clock), so the echo model must prove itself
        again; the delay and ERL are kept as the starting point."""
        self._path.reset(forget_kept=True)
        self._track.confirmed = 0

    def _delay_moved(self, old: int | None) -> None:
        """A delay search moved the delay: the echo path starts over, or takes back the filter
        it kept at the new lag (``echo_path.py``)."""
        if self.delay is not None:  # it just moved there
            self._track.set(self._path.delay_moved(old, self.delay))
        self._track.confirmed = 0

    def _reset_filter(self) -> None:
        self._path.reset()
        self._track.confirmed = 0

    # ------------------------------------------------------------------ per frame
    def frame(self, near: np.ndarray, far: np.ndarray, *, adapt: bool = True) -> FrameVerdict:
        """Judge one 20 ms input frame; ``far`` is what the caller heard during it.

        ``adapt=False`` (the gate is open: the caller is talking) freezes every estimate.
        """
        near = near.astype(np.float64, copy=False)
        self._push(near, far)
        self._frames += 1
        if adapt and self._frames % self._search_every() == 0:
            old = self.delay
            if self._track.update(self._floor, self._noise):
                self._delay_moved(old)
        tail = self._room.estimate()
        judged_by_filter = self.delay is not None and self._path.trusted
        if judged_by_filter:
            x = self._regressors()
            echo = x @ self._path.w32
            residual = near - echo
            residual_power = _power(residual)
            echo_power = _power(echo)
            missed = self._noise + self._path.leak * echo_power + tail
            expected = max(missed, self._noise + self._timing_guard())
        else:
            missed = None
            x = self._regressors() if self.delay is not None else None
            residual = near
            residual_power = _power(near)
            echo_power = self._untrusted_erl() * float(self._far_frame_power.max())
            expected = self._noise + max(echo_power, tail)
        self._residual_window.push(residual)
        # A caller can't be louder than the input itself: where the model predicts echo that
        # isn't there (it stopped, or the delay stepped to where the bot paused), the residual
        # is the prediction turned over, not a voice.
        voice = min(residual_power, _power(near))
        speech = voice > self._excess * expected and voice > self._floor
        if (
            not speech
            and adapt
            and missed is not None
            and voice > self._excess * missed
            and voice > max(self._floor, _NOISY_MARGIN * self._excess * self._noise)
        ):
            # Over what the filter misses, under the timing guard: a quiet caller, or the
            # echo off by a few ms (the guard's case); checked below like any other. (3 dB
            # more over the noise than elsewhere: babble swings that far above its floor.)
            speech = True
        if speech and adapt and missed is not None:
            # A residual that is the bot's audio near the delay is echo the filter missed (a
            # slip, a speakerphone's loud frame the 6 ms filter can't follow); a caller's
            # residual, even over the echo, is not.
            speech = not self._track.residual_is_echo(_GUARD_FRAMES * FRAME)
        if speech and adapt and self.delay is not None and self._moved_echo():
            speech = False  # the echo moved (a timing slip, a delay step)
        elif (
            speech
            and adapt
            and self.delay is None
            and self._track.found_now(self._floor, self._noise)
        ):
            self._reset_filter()
            speech = False  # echo where the bound expected none: judged at 0 dB from now on
        elif (
            not speech
            and adapt
            and self.delay is None
            and residual_power > _CALLER_UNDER_BOUND * echo_power
            and self._caller_not_echo(residual_power)
        ):
            # Loud, but nothing like the bot's audio: a caller already talking, once it has
            # lasted longer than a burst of babble on a noisy line does.
            self._unlike_run += 1
            speech = self._unlike_run >= _UNLIKE_FRAMES
        else:
            self._unlike_run = 0
        self._track_noise(residual_power, echo_power)
        # Half-way to speech (4 dB over the expected echo at the balanced preset): perhaps a
        # quiet caller's onset. Judged echo, but the echo path learns nothing from it: a leak
        # learned from a caller would hide the rest of what they say. Nor from a residual
        # louder than the input: the filter predicted echo that isn't there (the delay
        # stepped), and learning that would blunt it for the step's own check.
        doubtful = judged_by_filter and (
            voice > self._doubt * expected or residual_power > _power(near)
        )
        # Half-way over what the filter misses, but under the timing guard: perhaps a quiet
        # caller the residual check took for a slipped echo. The filter still learns (a
        # changed echo path must be followed), its leak and the room tail do not.
        unsure = missed is not None and voice > self._doubt * missed
        if adapt and not speech and not doubtful:
            self._learn(near, x, residual_power, echo_power, tail, leak=not unsure)
            self._track_erl_bound(residual_power)
        trusted = self.delay is not None and self._path.trusted
        leaked = self._path.leak * echo_power
        if adapt and not speech and trusted and tail > leaked:
            # Where the room's tail is most of what the filter leaves (the bot's words have
            # stopped or dropped): what the residual holds beyond the noise and the leak is
            # the tail. While the words go on, tail and leak can't be told apart; the leak
            # is learned from what is left after the tail.
            self._room.learn(residual_power - self._noise - leaked, tail)
        # The tail learns from the echo's power even on the frame the filter becomes trusted
        # (its own prediction there caught two more quiet callers but let the e2e call's
        # greeting through in 1 of 15 runs): before trust, the bound covers it.
        self._room.push(echo_power if trusted else 0.0)
        erl = self._erl if self._erl_measured else None
        return FrameVerdict(speech, residual_power, echo_power, self.delay, erl)

    def idle_frames(self, near: np.ndarray, far: np.ndarray) -> None:
        """Whole frames while no bot audio can be echoing: keeps the history and the noise
        floor as :meth:`frame` would (nothing to predict, so the residual is the input), and
        skips the echo path and the verdicts. Most of a call goes this way."""
        near = near.astype(np.float64, copy=False)
        self._push(near, far)
        powers = [_power(near)] if near.size == FRAME else _frame_powers(near).tolist()
        self._frames += len(powers)
        echo_power = self._untrusted_erl() * float(self._far_frame_power.max())
        for power in powers:
            self._track_noise(power, echo_power)

    def _search_every(self) -> int:
        """Frames between delay searches: every 100 ms until searches have confirmed the delay
        a few times over, then every 500 ms. The search is the costliest step of a frame; a
        delay that moves shows up as a residual that looks like speech, which searches at once
        (timing slips) or is checked against the bot's audio before it may open the gate."""
        settled = self._track.confirmed >= _SETTLED_CONFIRMATIONS and self._path.trusted
        return _XCORR_EVERY_SETTLED if settled else _XCORR_EVERY

    def _untrusted_erl(self) -> float:
        """The ERL that judges the input while the echo filter is not trusted.

        The bound is learned from how quiet the input was next to the bot's audio, so it can
        have decayed far below the real ERL: during a pause, or while input frames that were
        spoken before the bot started (a start-of-call backlog) were judged against its first
        words. Once a delay is found there is echo, so until the filter has measured its ERL
        the input is judged against the conservative 0 dB, never against that bound.
        """
        if self._erl_measured:
            return self._erl
        return self._erl_bound if self.delay is None else 1.0

    def _caller_not_echo(self, near_power: float) -> bool:
        """Before any delay is known, is input the bound calls echo unlike the bot's audio?

        A caller already talking when the bot starts (or talking over its first words) is
        loud next to the bot's audio, which teaches the ERL bound to expect that loudness
        as echo: the bound alone would never let them through. Echo matches the far audio
        at some lag; a caller does not, at any."""
        if near_power < max(self._floor, self._excess * self._noise):
            return False
        if float(self._far_frame_power.max()) < self._floor:
            return False
        found = self._track.search(self._floor, self._noise)
        return found is not None and found[1] < CONFIRM_CORR

    def _push(self, near: np.ndarray, far: np.ndarray) -> None:
        self._near_window.push(near)
        self._far_window.push(far)
        size = self._far_frame_power.size
        if far.size == FRAME:  # the common case: one frame, one dot product
            self._far_frame_power[:-1] = self._far_frame_power[1:]
            self._far_frame_power[-1] = _power(self._far[-FRAME:])
            return
        powers = _frame_powers(self._far[-far.size :])  # already float64 there
        if powers.size >= size:
            self._far_frame_power = powers[-size:].copy()
        else:
            self._far_frame_power[: -powers.size] = self._far_frame_power[powers.size :]
            self._far_frame_power[-powers.size :] = powers

    def _moved_echo(self) -> bool:
        """Is this speech-like frame the bot's echo at a lag the model does not have (a
        timing slip, a delay step)? See :meth:`EchoDelay.moved`."""
        trusted = self._path.trusted
        moved = self._track.moved(self._path.w if trusted else None)
        if moved == "moved":
            # Playback timing really changed (a slip, a step): no earlier filter fits it, and
            # after two one-sample slips the first one's would be taken back at the old lag.
            self._path.reset(forget_kept=True)
            self._track.confirmed = 0
        elif moved == "slipped":
            self._frames = -1  # the model misses its own echo: search on the next frame
        return moved is not None

    def _track_erl_bound(self, near_power: float) -> None:
        # Until the filter's prediction is trusted the bound is what judges the input: a delay
        # found mid-phrase must not freeze it at a value decayed during the last pause.
        if self.delay is not None and self._path.trusted:
            return  # trusted: the filter judges
        far_max = float(self._far_frame_power.max())
        if far_max > self._floor:
            self._erl_bound = max(near_power / far_max, self._erl_bound * _BOUND_DECAY, 1e-6)

    def _timing_guard(self) -> float:
        """Echo the prediction may miss when playback timing slips (a phone's jitter buffer
        underruns, a chunk is late): the loudest far frame within _GUARD_FRAMES of the delay,
        at the measured ERL, _GUARD_DB down."""
        frame = self.delay // FRAME
        lo = max(0, self._far_frame_power.size - 1 - frame - _GUARD_FRAMES)
        hi = self._far_frame_power.size - frame + _GUARD_FRAMES
        return self._erl * float(self._far_frame_power[lo:hi].max()) * _GUARD_GAIN

    def _track_noise(self, residual_power: float, echo_power: float) -> None:
        self._noise = self._noise_floor.track(residual_power, echo_power)

    # ---------------------------------------------------------------- echo path
    def _regressors(self) -> np.ndarray:
        """Rows: the far samples that can echo into each input sample, over the filter span."""
        lag_lo = max(0, self.delay - PRE_TAPS)
        lag_hi = lag_lo + TAPS - 1
        first = self._far.size - FRAME - lag_hi
        # A float32 copy, not a strided view: every product below runs 3-4x faster on
        # contiguous rows, and twice as fast again in float32 (the statistics they add up
        # to, and the solve, stay float64).
        return self._far_window.rows(first, FRAME, TAPS).astype(np.float32)

    def _learn(
        self,
        near: np.ndarray,
        x: np.ndarray | None,
        residual_power: float,
        echo_power: float,
        tail: float,
        *,
        leak: bool,
    ) -> None:
        if x is None:
            return
        far_power = _power(x[:, -1 - PRE_TAPS])
        if far_power < self._floor:
            return  # nothing to learn the echo path from
        self._path.learn(x, near)
        if self._path.adapted <= MIN_ADAPT_FRAMES:
            return
        if leak and echo_power > self._noise:
            # One frame's ratio counts up to 0 dB: a caller's onset that slipped through as
            # echo (a residual far over a quiet stretch of echo) must not set it at once.
            ratio = min(max(residual_power - tail, 0.0) / echo_power, 1.0)
            self._path.learn_leak(ratio)
            erl = echo_power / far_power
            self._erl = min(max(0.9 * self._erl + 0.1 * erl, 1e-4), 1.0)
            self._erl_measured = True
