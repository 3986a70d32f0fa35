"""SlidingWindow holds exactly what shifting a fixed array would, for any append sizes."""

import numpy as np

from processors.echo.sliding_window import SlidingWindow


def test_the_window_is_always_the_newest_samples_oldest_first():
    rng = np.random.default_rng(7)
    size = 100
    window, shifted = SlidingWindow(size), np.zeros(size)
    for n in rng.integers(1, 130, size=400):
        samples = rng.standard_normal(n)
        window.push(samples)
        shifted = np.concatenate([shifted, samples])[-size:]
        assert np.array_equal(window.view, shifted)
