"""Farewell guard: the bot said goodbye but never called `hangup_call` — end the call anyway.

Watches the bot's own transcript (the `TTSTextFrame`s the Realtime service emits for its
audio). When an utterance containing a farewell phrase has finished playing and neither
side speaks again within `after_s`, the call ends with the reason "guarded hang-up".
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    TTSTextFrame,
    UserStartedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from bot.config.tools import FarewellGuardSettings
from processors.tools.call_actions import CallActions

GUARDED_REASON = "guarded hang-up"


def farewell_pattern(phrases: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(r"\s+".join(map(re.escape, p.split())) for p in phrases)
    return re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)


class FarewellGuard(FrameProcessor):
    needs_audio = False  # control frames only (the audio fast lane, pipelines/audio_lane.py)

    def __init__(
        self,
        *,
        call_id: str,
        settings: FarewellGuardSettings,
        actions: CallActions,
        end_call: Callable[[str], Awaitable[None]],
    ):
        super().__init__(name="farewell-guard")
        self._call_id = call_id
        self._after_s = settings.after_s
        self._pattern = farewell_pattern(settings.phrases)
        self._actions = actions
        self._end_call = end_call
        self._utterance: list[str] = []
        self._timer: asyncio.Task | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, TTSTextFrame):
            self._utterance.append(frame.text)
        elif isinstance(frame, BotStartedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            await self._disarm()
        elif isinstance(frame, BotStoppedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            said = "".join(self._utterance)
            self._utterance.clear()
            if self._pattern.search(said):
                await self._arm(said)
        elif isinstance(frame, UserStartedSpeakingFrame):
            await self._disarm()
        elif isinstance(frame, (EndFrame, CancelFrame)):
            await self._disarm()
        await self.push_frame(frame, direction)

    async def _arm(self, said: str) -> None:
        await self._disarm()
        logger.debug(f"call {self._call_id}: farewell heard ({said.strip()[:80]!r}), guard armed")
        self._timer = self.create_task(self._expire(), name="farewell-guard")

    async def _disarm(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None and timer is not asyncio.current_task():
            await self.cancel_task(timer)

    async def _expire(self) -> None:
        await asyncio.sleep(self._after_s)
        self._timer = None
        if self._actions.pending is not None:
            return  # hangup_call or a transfer is already taking care of the call
        logger.info(
            f"call {self._call_id}: bot said goodbye and no hangup_call followed in "
            f"{self._after_s:g}s; ending the call"
        )
        await self._end_call(GUARDED_REASON)
