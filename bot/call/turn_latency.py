"""Per-turn latency as the bot sees it, for a speech-to-speech service with server VAD.

Pipecat's UserBotLatencyObserver starts its clock on local VAD frames, which a Realtime
pipeline with server-side turn detection never produces. Here the clock starts when the
turn is released (UserStoppedSpeakingFrame, driven by the server's `speech_stopped`) and
stops at the bot's first audio (BotStartedSpeakingFrame).
"""

import time
from collections.abc import Awaitable, Callable

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    ClientConnectedFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.frame_processor import FrameDirection

LatencyCallback = Callable[[float], Awaitable[None]]


class TurnLatencyObserver(BaseObserver):
    def __init__(self, on_greeting: LatencyCallback, on_turn: LatencyCallback):
        super().__init__(observe_every_push=False)
        self._on_greeting = on_greeting
        self._on_turn = on_turn
        self._connected_at: float | None = None
        self._greeted = False
        self._user_stopped_at: float | None = None

    async def on_push_frame(self, data: FramePushed):
        if data.direction != FrameDirection.DOWNSTREAM:
            return
        frame = data.frame
        if isinstance(frame, ClientConnectedFrame) and self._connected_at is None:
            self._connected_at = time.monotonic()
        elif isinstance(frame, UserStartedSpeakingFrame):
            self._user_stopped_at = None
            self._greeted = True  # a caller who talks first makes "greeting latency" moot
        elif isinstance(frame, UserStoppedSpeakingFrame):
            self._user_stopped_at = time.monotonic()
        elif isinstance(frame, BotStartedSpeakingFrame):
            now = time.monotonic()
            if not self._greeted and self._connected_at is not None:
                self._greeted = True
                await self._on_greeting(now - self._connected_at)
            if self._user_stopped_at is not None:
                latency, self._user_stopped_at = now - self._user_stopped_at, None
                await self._on_turn(latency)
