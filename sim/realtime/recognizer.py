"""Fixture "ASR": recognise the bundled caller clips by their 10 ms energy envelope.

Both signals are reduced to a per-10 ms dBFS envelope, floored at ``FLOOR_DB`` and
z-normalised (so overall level changes do not matter; G.711 and 8k↔24k resampling barely
move the envelope). The clip envelope slides over the committed audio (or the audio over
the clip when it is shorter) and the best Pearson correlation over lags is the score.
A clip is recognised when its score is at least ``MIN_SCORE`` and the overlap covers at
least ``MIN_COVERAGE`` of the clip. Silence is "" (the idle-timeout's empty turn); anything
else is "(unrecognised speech, N.N s)". Users add clips of their own (``caller_clip_dirs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from sim.realtime.audio import frame_db
from sim.realtime.clips import caller_clips

FLOOR_DB = -55.0
MIN_SCORE = 0.8
MIN_COVERAGE = 0.85


@dataclass
class Recognition:
    transcript: str
    clip: str | None
    score: float


def envelope(samples: np.ndarray, rate: int) -> np.ndarray:
    return np.maximum(frame_db(samples, rate), FLOOR_DB)


def _best_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Max Pearson correlation of the shorter envelope against every lag of the longer."""
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    n = len(short)
    if n < 10:
        return 0.0
    s = short - short.mean()
    s_norm = np.sqrt((s * s).sum())
    if s_norm == 0:
        return 0.0
    windows = np.lib.stride_tricks.sliding_window_view(long_, n)
    w = windows - windows.mean(axis=1, keepdims=True)
    w_norm = np.sqrt((w * w).sum(axis=1))
    w_norm[w_norm == 0] = np.inf
    return float(((w @ s) / (w_norm * s_norm)).max())


@cache
def _clip_envelopes(extra_dirs: tuple[str, ...]) -> tuple[tuple[str, str, np.ndarray], ...]:
    return tuple((c.name, c.text, envelope(c.samples, c.rate)) for c in caller_clips(extra_dirs))


def _trim(env: np.ndarray) -> np.ndarray:
    """Drop leading/trailing frames at the floor (silence/padding)."""
    active = np.nonzero(env > FLOOR_DB + 10)[0]
    if len(active) == 0:
        return env[:0]
    return env[active[0] : active[-1] + 1]


def recognise(samples: np.ndarray, rate: int, extra_dirs: tuple[str, ...] = ()) -> Recognition:
    duration_s = len(samples) / rate if rate else 0.0
    env = _trim(envelope(samples, rate))
    if len(env) == 0:
        return Recognition(transcript="", clip=None, score=0.0)
    best: tuple[float, str | None, str] = (0.0, None, "")
    for name, text, clip_env in _clip_envelopes(extra_dirs):
        clip = _trim(clip_env)
        if min(len(env), len(clip)) < MIN_COVERAGE * len(clip):
            continue
        score = _best_correlation(env, clip)
        if score > best[0]:
            best = (score, name, text)
    if best[1] is not None and best[0] >= MIN_SCORE:
        return Recognition(transcript=best[2], clip=best[1], score=best[0])
    return Recognition(
        transcript=f"(unrecognised speech, {duration_s:.1f} s)", clip=None, score=best[0]
    )
