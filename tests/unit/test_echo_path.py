"""The echo path's filter when the delay moves away and back (processors/echo/echo_path.py)."""

import numpy as np

from processors.echo.echo_path import MIN_ADAPT_FRAMES, TAPS, EchoPath


def _trained(seed: int = 0) -> EchoPath:
    rng = np.random.default_rng(seed)
    path = EchoPath()
    taps = rng.normal(size=TAPS).astype(np.float32)
    for _ in range(MIN_ADAPT_FRAMES + 2):
        x = rng.normal(scale=1000, size=(160, TAPS)).astype(np.float32)
        path.learn(x, x @ taps)
    path.learn_leak(0.0)
    assert path.trusted
    return path


def test_a_delay_that_comes_back_takes_its_filter_and_leak_back():
    path = _trained()
    w, leak = path.w.copy(), path.leak
    assert path.delay_moved(1000, 1500) == 1500  # away: start over
    assert not path.trusted and path.leak == 1.0
    assert path.delay_moved(1500, 1001) == 1000  # back within two samples: its own lag
    assert np.allclose(path.w, w) and path.leak == leak
    assert not path.trusted  # still proves itself before it judges


def test_a_delay_that_moves_on_starts_over():
    path = _trained()
    path.delay_moved(1000, 1500)
    assert path.delay_moved(1500, 1200) == 1200
    assert not path.w.any() and path.leak == 1.0


def test_a_new_bot_turn_forgets_the_kept_filter():
    path = _trained()
    path.delay_moved(1000, 1500)
    path.reset(forget_kept=True)
    assert path.delay_moved(1500, 1000) == 1000
    assert not path.w.any()
