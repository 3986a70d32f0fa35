"""Energy-based server VAD that runs on *audio time* (not wall-clock).

Threshold mapping: the API's ``threshold`` (0.0..1.0, default 0.5) is mapped linearly to a
per-10 ms-frame RMS level: ``dBFS = -65 + 50 * threshold`` (0.0 → -65 dBFS, 0.5 → -40 dBFS,
0.9 → -20 dBFS, 1.0 → -15 dBFS). A frame at or above that level is "speech".
Speech starts after ``MIN_SPEECH_MS`` of consecutive speech frames; ``audio_start_ms`` is the
onset minus ``prefix_padding_ms`` (clamped to the buffer). Speech stops once
``silence_duration_ms`` of consecutive non-speech frames followed; ``audio_end_ms`` is the end
of the last speech frame plus ``silence_duration_ms`` (like the real API, it includes the
silence). ``semantic_vad`` uses the same detector with silence from ``eagerness``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.realtime.audio import frame_db

FRAME_MS = 10
MIN_SPEECH_MS = 60
EAGERNESS_SILENCE_MS = {"low": 800, "medium": 500, "auto": 500, "high": 250}
SERVER_VAD_DEFAULTS = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
SEMANTIC_VAD_DEFAULTS = {
    "type": "semantic_vad",
    "eagerness": "auto",
    "create_response": True,
    "interrupt_response": True,
}


def threshold_to_db(threshold: float) -> float:
    return -65.0 + 50.0 * min(max(threshold, 0.0), 1.0)


@dataclass
class VadEvent:
    kind: str  # "start" | "stop"
    ms: int  # audio_start_ms for start, audio_end_ms for stop


class EnergyVAD:
    """Streaming detector. ``feed`` returns start/stop events with session-audio timestamps."""

    def __init__(self, turn_detection: dict, rate: int, base_ms: int = 0) -> None:
        self.rate = rate
        if turn_detection.get("type") == "semantic_vad":
            eagerness = turn_detection.get("eagerness") or "auto"
            self.threshold_db = threshold_to_db(0.5)
            self.prefix_ms = 300
            self.silence_ms = EAGERNESS_SILENCE_MS.get(eagerness, 500)
        else:
            th = turn_detection.get("threshold")
            pp = turn_detection.get("prefix_padding_ms")
            sd = turn_detection.get("silence_duration_ms")
            self.threshold_db = threshold_to_db(0.5 if th is None else float(th))
            self.prefix_ms = 300 if pp is None else int(pp)
            self.silence_ms = 500 if sd is None else int(sd)
        self._frame_len = rate * FRAME_MS // 1000
        self._pending = np.zeros(0, dtype=np.int16)
        self._ms = base_ms  # audio time at the start of the next frame
        self.in_speech = False
        self._run = 0  # consecutive speech frames while not in speech
        self._silence = 0  # consecutive silence frames while in speech
        self._last_speech_end = 0
        self.floor_ms = base_ms  # audio_start_ms never precedes this (last commit / clear)

    def feed(self, samples: np.ndarray) -> list[VadEvent]:
        buf = np.concatenate([self._pending, samples]) if len(self._pending) else samples
        usable = len(buf) // self._frame_len * self._frame_len
        self._pending = buf[usable:].copy()
        events: list[VadEvent] = []
        for level in frame_db(buf[:usable], self.rate, FRAME_MS):
            speech = level >= self.threshold_db
            self._ms += FRAME_MS
            if not self.in_speech:
                self._run = self._run + 1 if speech else 0
                if self._run * FRAME_MS >= MIN_SPEECH_MS:
                    onset = self._ms - self._run * FRAME_MS
                    start = max(self.floor_ms, onset - self.prefix_ms)
                    self.in_speech = True
                    self._silence = 0
                    self._last_speech_end = self._ms
                    events.append(VadEvent("start", start))
            elif speech:
                self._silence = 0
                self._last_speech_end = self._ms
            else:
                self._silence += 1
                if self._silence * FRAME_MS >= self.silence_ms:
                    self.in_speech = False
                    self._run = 0
                    events.append(VadEvent("stop", self._last_speech_end + self.silence_ms))
        return events

    def reset(self, floor_ms: int) -> None:
        """Forget any speech in progress (after a manual commit or clear)."""
        self.in_speech = False
        self._run = 0
        self._silence = 0
        self.floor_ms = floor_ms
