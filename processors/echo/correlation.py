"""Correlation helpers of the echo detector: FFT sizes and normalised correlation along a
stretch of far audio (the delay search and the moved-echo check)."""

import numpy as np


def fft_size(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n: as fast as a power of two for pocketfft, and up to
    ~1.6x shorter. The delay search correlates a window of input against window + max lag
    of far audio; a circular correlation of that length has no wrap-around at the lags read."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            size = p35
            while size < n:
                size *= 2
            best = min(best, size)
            p35 *= 3
        p5 *= 5
    return best


_SILENT_POWER = 32768.0**2 * 1e-6  # -60 dBFS


def normalised_correlation(far: np.ndarray, near: np.ndarray) -> np.ndarray:
    """For every placement of ``near`` along ``far``: their normalised correlation. One
    direct correlation and a running sum of squares, instead of a matrix of every window."""
    n = near.size
    if far.size > 4 * n:  # long reach: by FFT
        size = fft_size(far.size)
        spectrum = np.fft.rfft(far, size) * np.conj(np.fft.rfft(near, size))
        dots = np.fft.irfft(spectrum, size)[: far.size - n + 1]
    else:
        dots = np.correlate(far, near, "valid")
    energy = np.concatenate(([0.0], np.cumsum(far * far)))
    window_energy = energy[n:] - energy[:-n]
    # Silent stretches of far audio (before the bot spoke): the running sum's rounding and
    # the FFT's would divide noise by nearly nothing there. Below -60 dBFS, no match.
    audible = window_energy > n * _SILENT_POWER
    rho = dots / (np.sqrt(np.where(audible, window_energy, 1.0) * float(near @ near)) + 1e-9)
    return np.where(audible, rho, 0.0)
