"""no_input_watchdog: never leave a silent line open.

After ``timeout_s`` with neither caller speech nor bot speech the bot re-prompts; after
``max_reprompts`` re-prompts in a row it says ``closing_line`` and hangs up once that has
played (``end_reason`` goes into the call record). Caller speech or a key press resets
the count.

The clock is Pipecat's ``UserIdleController``: it starts when the bot stops speaking and
stops while the bot speaks, the caller speaks or a tool runs. Two cases it leaves
waiting forever are re-armed here: a caller turn or a tool result the bot never answers,
and a call whose greeting never plays.
"""

from __future__ import annotations

from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    CancelFrame,
    EndFrame,
    Frame,
    FunctionCallCancelFrame,
    FunctionCallResultFrame,
    FunctionCallsStartedFrame,
    InputDTMFFrame,
    StartFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.processors.frame_processor import FrameDirection, FrameProcessorSetup
from pipecat.turns.user_idle_controller import UserIdleController
from pydantic import Field, field_validator

from processors.base import ProcessorContext, ProcessorOptions, ProfileProcessor

_ACTIVITY = (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
    FunctionCallsStartedFrame,
    FunctionCallResultFrame,
    FunctionCallCancelFrame,
)
# After these the bot may have nothing to say; the silence still counts.
_REARM = (UserStoppedSpeakingFrame, FunctionCallResultFrame, FunctionCallCancelFrame)


class WatchdogOptions(ProcessorOptions):
    timeout_s: float = Field(default=10.0, gt=0, le=600)
    reprompt: str = Field(default="Are you still there?", min_length=1, max_length=300)
    max_reprompts: int = Field(default=2, ge=0, le=10)
    closing_line: str = Field(
        default="I can't hear anything, so I'll end the call now. Goodbye!",
        min_length=1,
        max_length=300,
    )
    end_reason: str = Field(default="no input", min_length=1, max_length=80)

    @field_validator("reprompt", "closing_line", "end_reason")
    @classmethod
    def _one_line(cls, value: str) -> str:
        cleaned = " ".join(value.split())
        if not cleaned:
            raise ValueError("must not be blank")
        return cleaned


class NoInputWatchdog(ProfileProcessor):
    needs_audio = False  # keys, speech and control frames only (the audio fast lane)
    processor_name = "no_input_watchdog"
    Options = WatchdogOptions

    def __init__(self, options: WatchdogOptions, context: ProcessorContext, **kwargs):
        super().__init__(options, context, **kwargs)
        self._options = options
        self._reprompts = 0
        self._closing = False
        self._idle = UserIdleController(user_idle_timeout=options.timeout_s)
        self._idle.add_event_handler("on_user_turn_idle", self._on_idle)

    async def setup(self, setup: FrameProcessorSetup):
        await super().setup(setup)
        await self._idle.setup(setup)

    async def cleanup(self):
        await super().cleanup()
        await self._idle.cleanup()

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame):
            # The greeting cancels this at once; if it never plays, the silence is ours.
            await self._idle.wait_for_user()
        elif isinstance(frame, _ACTIVITY):
            if isinstance(frame, UserStartedSpeakingFrame):
                self._reprompts = 0
            await self._idle.process_frame(frame)
            if isinstance(frame, _REARM):
                await self._idle.wait_for_user()
        elif isinstance(frame, InputDTMFFrame):
            # A key press is the caller answering too.
            self._reprompts = 0
            await self._idle.wait_for_user()
        elif isinstance(frame, (EndFrame, CancelFrame)):
            await self._idle.stop()
        await self.push_frame(frame, direction)

    async def _on_idle(self, _controller: UserIdleController) -> None:
        if self._closing:
            return
        options = self._options
        if self._reprompts < options.max_reprompts:
            self._reprompts += 1
            self.note(
                f"no input for {options.timeout_s:g}s: re-prompt "
                f"{self._reprompts}/{options.max_reprompts}"
            )
            await self.context.say(options.reprompt)
            # Keep counting if the re-prompt never plays; its audio pauses the clock.
            await self._idle.wait_for_user()
            return
        self._closing = True
        self.note(
            f"no input for {options.timeout_s:g}s after {options.max_reprompts} re-prompt(s): "
            "closing the call"
        )
        await self.context.say(options.closing_line)
        await self.context.hang_up_after_speech(options.end_reason)
