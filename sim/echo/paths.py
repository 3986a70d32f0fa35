"""Synthetic echo paths: what a phone line and a speakerphone do to the bot's voice.

Everything is int16-scale float at 8 kHz. The telephone band-pass is a short linear-phase FIR
whose group delay is compensated, so a path's ``delay_ms`` is the delay of its direct sound.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 8000
_BAND_TAPS = 41  # +-2.5 ms: a real line's band filter is short (IIR), not a brick wall


def band_pass(low_hz: float = 300.0, high_hz: float = 3400.0) -> np.ndarray:
    """Windowed-sinc telephone band-pass (300-3400 Hz)."""
    n = np.arange(_BAND_TAPS) - (_BAND_TAPS - 1) / 2

    def low(cut: float) -> np.ndarray:
        return 2 * cut / RATE * np.sinc(2 * cut / RATE * n)

    return (low(high_hz) - low(low_hz)) * np.hamming(_BAND_TAPS)


def telephone(signal: np.ndarray) -> np.ndarray:
    """Band-limit to the telephone band, without shifting the signal in time."""
    half = (_BAND_TAPS - 1) // 2
    return np.convolve(signal, band_pass())[half : half + signal.size]


def rms(signal: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(signal, dtype=np.float64)))) if signal.size else 0.0


def active_rms(signal: np.ndarray, frame: int = 160) -> float:
    """RMS over the 20 ms frames within 30 dB of the loudest one (speech, not pauses)."""
    usable = signal[: signal.size // frame * frame].reshape(-1, frame)
    power = np.mean(usable.astype(np.float64) ** 2, axis=1)
    keep = power > power.max() * 1e-3
    return float(np.sqrt(power[keep].mean())) if keep.any() else 0.0


def scale_to_dbfs(signal: np.ndarray, dbfs: float) -> np.ndarray:
    level = active_rms(signal)
    return signal * (32768 * 10 ** (dbfs / 20) / level) if level else signal


@dataclass(frozen=True)
class EchoPathSpec:
    delay_ms: float
    erl_db: float  # echo return loss: how much quieter the echo is than what was played
    reflections: tuple[tuple[float, float], ...] = ()  # (extra delay ms, gain) of room bounces

    def apply(self, far: np.ndarray) -> np.ndarray:
        """The echo of ``far`` as it arrives on the input, same length as ``far``."""
        ir = np.zeros(int(RATE * 0.01) + 1)
        ir[0] = 1.0
        for extra_ms, gain in self.reflections:
            ir[round(extra_ms * RATE / 1000)] += gain
        shaped = telephone(np.convolve(far, ir)[: far.size])
        delay = round(self.delay_ms * RATE / 1000)
        echo = np.concatenate([np.zeros(delay), shaped])[: far.size]
        far_level, echo_level = active_rms(far), active_rms(echo)
        if echo_level == 0:
            return echo
        return echo * (far_level / echo_level) * 10 ** (-self.erl_db / 20)


def line_noise(n: int, dbfs: float | None, rng: np.random.Generator) -> np.ndarray:
    """Band-limited hiss at ``dbfs`` RMS (``None``: a perfectly quiet line)."""
    if dbfs is None:
        return np.zeros(n)
    noise = telephone(rng.standard_normal(n))
    return noise * (32768 * 10 ** (dbfs / 20) / rms(noise))
