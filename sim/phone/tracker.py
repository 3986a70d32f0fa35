"""Attributes arriving bot audio to the greeting or to a caller turn."""

from __future__ import annotations

import numpy as np

from sim.phone.audio import voiced_seconds
from sim.phone.result import CallResult, Turn


class TurnTracker:
    """Fills the timing fields of a CallResult as bot audio arrives.

    Arrival time, not playout time, is what the bot controls, so latency is measured on
    arrival. Silence frames (RMS below the floor) never count as a reply.
    """

    def __init__(self, result: CallResult) -> None:
        self._result = result
        self._answered_turn: Turn | None = None  # last turn whose utterance has ended
        self.last_voiced_arrival_s: float | None = None

    def begin_say(self, utterance: str, now_s: float) -> None:
        self._result.turns.append(Turn(utterance=utterance, start_s=now_s))

    def end_say(self, now_s: float) -> None:
        turn = self._result.turns[-1]
        turn.end_of_utterance_s = now_s
        self._answered_turn = turn

    def on_bot_audio(self, now_s: float, samples: np.ndarray) -> None:
        voiced = voiced_seconds(samples)
        if voiced <= 0:
            return
        self.last_voiced_arrival_s = now_s
        self._result.bot_audio_total_s += voiced
        turn = self._answered_turn
        if turn is None:
            if self._result.greeting_delay_s is None:
                self._result.greeting_delay_s = now_s
            self._result.greeting_audio_s += voiced
            return
        if turn.first_bot_audio_s is None and turn.end_of_utterance_s is not None:
            turn.first_bot_audio_s = now_s
            turn.latency_s = now_s - turn.end_of_utterance_s
        turn.bot_audio_s += voiced

    def current_bot_audio_s(self) -> float:
        """Bot audio received so far in the current answer (the greeting before any turn)."""
        if self._answered_turn is None:
            return self._result.greeting_audio_s
        return self._answered_turn.bot_audio_s
