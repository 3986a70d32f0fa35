"""The gate's state machine, free of Pipecat so the benchmark runs exactly this code.

    idle ──bot audio heard──► closed ──caller speech (open_ms)──► open
      ▲                        ▲  └────────────── close_ms of no speech ◄──┘
      └── bot silent for tail_ms (from closed or open) ─────────────────────┘

- ``idle``: the bot is silent; every frame passes untouched.
- ``closed``: the bot is (or was just) speaking and the input is echo; frames leave as comfort
  silence of the same length. The last ``pre_roll_ms`` of input is held back, so that when the
  gate opens those frames pass as they were and the caller's first syllable is not clipped.
- ``open``: caller speech while the bot speaks (a barge-in); frames pass untouched.

No frame is ever dropped or duplicated: what goes in comes out, in order, some of it a few
frames later and some of it as silence.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Generic, Literal, TypeVar

from bot.config.echo import EchoMode, EchoThresholds
from processors.echo.detector import FRAME, RATE, EchoDetector, FrameVerdict

Item = TypeVar("Item")
GateState = Literal["idle", "closed", "open"]


def _frames(ms: int) -> int:
    return max(0, round(ms * RATE / 1000 / FRAME))


@dataclass
class GateCounters:
    state_changes: int = 0  # every transition (flutter shows up here)
    openings: int = 0  # closed -> open: barge-ins let through
    closings: int = 0  # open -> closed while the bot still speaks
    echo_frames: int = 0  # frames replaced by comfort silence


class GateCore(Generic[Item]):
    """Feed every input frame to :meth:`process`; emit what it returns, in order.

    Each returned pair is ``(item, passed)``: ``passed=False`` means "send comfort silence of
    this item's length instead".
    """

    def __init__(self, mode: EchoMode, thresholds: EchoThresholds) -> None:
        self.mode = mode
        self.thresholds = thresholds
        self.detector = EchoDetector(thresholds) if mode == "reference" else None
        self.state: GateState = "idle"
        self.counters = GateCounters()
        self.last_verdict: FrameVerdict | None = None
        self._open_after = max(1, _frames(thresholds.open_ms))
        self._close_after = max(1, _frames(thresholds.close_ms))
        self._pre_roll = _frames(thresholds.pre_roll_ms)
        self._held: deque[Item] = deque()
        self._speech_run = 0
        self._quiet_run = 0

    def process(self, item: Item, near, far, *, bot_audible: bool) -> list[tuple[Item, bool]]:
        """``near``: this frame's input samples; ``far``: what the caller heard meanwhile;
        ``bot_audible``: bot audio was heard within the last ``tail_ms``."""
        if self.mode == "off":
            return [(item, True)]
        if self.mode == "mute_while_speaking":
            self._set("closed" if bot_audible else "idle")
            self.counters.echo_frames += int(bot_audible)
            return [(item, not bot_audible)]
        if not bot_audible and self.idle_run(near, far):
            return [(item, True)]
        gate_open = self.state == "open"
        verdict = self.detector.frame(near, far, adapt=bot_audible and not gate_open)
        self.last_verdict = verdict
        if not bot_audible:
            released = [(held, False) for held in self._held]
            self._held.clear()
            self._set("idle")
            return [*released, (item, True)]
        if self.state == "idle":
            self.detector.new_bot_turn()
            self._set("closed")
        self._speech_run = self._speech_run + 1 if verdict.speech else 0
        self._quiet_run = 0 if verdict.speech else self._quiet_run + 1
        if self.state == "closed" and self._speech_run >= self._open_after:
            self._set("open")
            self.counters.openings += 1
            released = [(held, True) for held in self._held]
            self._held.clear()
            return [*released, (item, True)]
        if self.state == "open":
            if self._quiet_run >= self._close_after:
                self._set("closed")
                self.counters.closings += 1
            return [(item, True)]
        self._held.append(item)
        if len(self._held) > self._pre_roll:
            self.counters.echo_frames += 1
            return [(self._held.popleft(), False)]
        return []

    def tail_samples(self) -> int:
        """How long after the bot's last audio the input is still judged: ``tail_ms``, plus the
        echo delay measured on this call (a 600 ms trunk returns the last word 600 ms late)."""
        tail = self.thresholds.tail_ms * RATE // 1000
        if self.detector is not None and self.detector.delay is not None:
            tail += self.detector.delay
        return tail

    def idle_run(self, near, far) -> bool:
        """One or more frames during which no bot audio can be echoing: ``True`` when the gate
        is idle (most of a call), and they pass untouched; the detector only keeps its history,
        nothing is judged."""
        if self.state != "idle":
            return False
        if self.detector is not None:
            self.detector.idle_frames(near, far)
            self.last_verdict = None
        return True

    def flush(self) -> list[tuple[Item, bool]]:
        """Frames still held (end of call): they were echo, so they leave as silence."""
        released = [(held, False) for held in self._held]
        self._held.clear()
        return released

    def _set(self, state: GateState) -> None:
        if state != self.state:
            self.counters.state_changes += 1
            self.state = state
