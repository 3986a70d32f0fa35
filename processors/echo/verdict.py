"""What the echo detector says about one 20 ms frame, and the level helpers it is said in.

Samples are float, int16 scale, at 8 kHz; powers are mean squares on that scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RATE = 8000
FRAME = 160  # 20 ms
_FULL_SCALE_POWER = 32768.0**2


def db_to_power(dbfs: float) -> float:
    return _FULL_SCALE_POWER * 10 ** (dbfs / 10)


def power_db(power: float) -> float:
    return 10 * np.log10(max(power, 1e-9) / _FULL_SCALE_POWER)


@dataclass
class FrameVerdict:
    """What one frame looked like; ``speech`` is the only field the gate acts on. Powers are
    kept as they are and turned into dB only when read (a log line at a state change), not
    on every frame."""

    speech: bool
    residual_power: float
    echo_power: float
    delay: int | None
    erl: float | None

    @property
    def residual_db(self) -> float:
        return power_db(self.residual_power)

    @property
    def echo_db(self) -> float:
        return power_db(self.echo_power)

    @property
    def delay_ms(self) -> float | None:
        return None if self.delay is None else self.delay * 1000 / RATE

    @property
    def erl_db(self) -> float | None:
        return None if self.erl is None else -10 * float(np.log10(self.erl))
