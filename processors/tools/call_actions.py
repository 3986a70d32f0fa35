"""The tool processor that acts on the call at the right moment in the audio.

Tools only *ask* for a hang-up or a transfer; this stage, sitting between the Realtime
service and the transport output, knows when the bot's audio has really finished playing
(`BotStoppedSpeakingFrame`, which the output transport also sends upstream through here)
and only then hangs up or transfers. If the farewell never starts — the model may call
`hangup_call` and say nothing (seed 004) — a hard timeout acts anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from processors.tools.call_control import CallControl, CallControlError

EndCall = Callable[[str], Awaitable[None]]


@dataclass
class PendingAction:
    kind: str  # "hang-up" | "transfer"
    reason: str  # the call record's end reason once it is done
    target: str = ""
    voicemail: bool = False  # a transfer to a mailbox rather than a person
    task: asyncio.Task | None = None


class CallActions(FrameProcessor):
    needs_audio = False  # control frames only (the audio fast lane, pipelines/audio_lane.py)

    def __init__(
        self,
        *,
        call_id: str,
        end_call: EndCall,
        control: CallControl | None,
        hangup_timeout_s: float,
        max_farewell_s: float,
        on_error: Callable[[str], None] = lambda _msg: None,
    ):
        super().__init__(name="call-actions")
        self._call_id = call_id
        self._end_call = end_call
        self._control = control
        self._timeout_s = hangup_timeout_s
        self._max_farewell_s = max_farewell_s
        self._on_error = on_error
        self._bot_speaking = False
        self._started = asyncio.Event()
        self._stopped = asyncio.Event()
        self.pending: PendingAction | None = None

    @property
    def bot_speaking(self) -> bool:
        return self._bot_speaking

    @property
    def can_transfer(self) -> bool:
        return self._control is not None and self._control.can_transfer

    @property
    def can_voicemail(self) -> bool:
        return self._control is not None and self._control.can_voicemail

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        # The output transport sends these both ways; the upstream copy passes here once.
        if isinstance(frame, BotStartedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            self._bot_speaking = True
            self._stopped.clear()
            self._started.set()
        elif isinstance(frame, BotStoppedSpeakingFrame) and direction == FrameDirection.UPSTREAM:
            self._bot_speaking = False
            self._stopped.set()
        elif isinstance(frame, (EndFrame, CancelFrame)):
            await self._drop_pending()
        await self.push_frame(frame, direction)

    async def hang_up_after_speech(self, reason: str = "bot hung up") -> None:
        """End the call once the bot's current or next utterance has played."""
        await self._arm(PendingAction(kind="hang-up", reason=reason))

    async def transfer_after_speech(self, name: str, target: str) -> None:
        """Transfer once the bot has announced it (its next utterance has played)."""
        action = PendingAction(kind="transfer", reason=f"transferred to {name}", target=target)
        await self._arm(action)

    async def voicemail_after_speech(self, name: str, mailbox: str) -> None:
        """Send the caller to a mailbox once the bot has said so; cancellable like a transfer."""
        reason = f"sent to voicemail {name}"
        action = PendingAction(kind="transfer", reason=reason, target=mailbox, voicemail=True)
        await self._arm(action)

    async def cancel_transfer(self) -> bool:
        """Cancel a transfer that has not been handed to the provider yet."""
        if self.pending is None or self.pending.kind != "transfer":
            return False
        logger.info(f"call {self._call_id}: transfer ({self.pending.reason}) cancelled")
        await self._drop_pending()
        return True

    async def _arm(self, action: PendingAction) -> None:
        if self.pending is not None and self.pending.kind == action.kind == "hang-up":
            return  # a second hangup_call changes nothing
        await self._drop_pending()
        if not self._bot_speaking:
            self._started.clear()
        self.pending = action
        action.task = self.create_task(self._run(action), name=f"call-action-{action.kind}")

    async def _drop_pending(self) -> None:
        action, self.pending = self.pending, None
        task = action.task if action is not None else None
        if task is not None and task is not asyncio.current_task():
            await self.cancel_task(task)

    async def _run(self, action: PendingAction) -> None:
        if not self._bot_speaking:
            try:
                await asyncio.wait_for(self._started.wait(), self._timeout_s)
            except TimeoutError:
                logger.info(
                    f"call {self._call_id}: no bot audio {self._timeout_s:g}s after the "
                    f"{action.kind} request; acting without it"
                )
        if self._bot_speaking:
            try:
                await asyncio.wait_for(self._stopped.wait(), self._max_farewell_s)
            except TimeoutError:
                logger.warning(
                    f"call {self._call_id}: bot still speaking after {self._max_farewell_s:g}s"
                )
        self.pending = None
        if action.kind == "transfer":
            await self._transfer(action)
        else:
            await self._hang_up(action)

    async def _hang_up(self, action: PendingAction) -> None:
        if self._control is not None:
            try:
                await self._control.hang_up()
            except CallControlError as exc:
                self._report(f"hang-up failed: {exc}")
        await self._end_call(action.reason)

    async def _transfer(self, action: PendingAction) -> None:
        assert self._control is not None
        try:
            if action.voicemail:
                await self._control.send_to_voicemail(action.target)
            else:
                await self._control.transfer(action.target)
        except CallControlError as exc:
            # The caller stays with the bot; the line is still ours.
            self._report(f"transfer failed: {exc}")
            return
        logger.info(f"call {self._call_id}: handed over to the provider ({action.reason})")
        await self._end_call(action.reason)

    def _report(self, message: str) -> None:
        logger.error(f"call {self._call_id}: {message}")
        self._on_error(message)
