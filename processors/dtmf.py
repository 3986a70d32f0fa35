"""dtmf: keypad presses from the line, collected into one entry and acted on.

Pipecat's ``DTMFAggregator`` does the collecting: the serializers (Twilio, Telnyx, Plivo,
Exotel) turn ``dtmf`` events into ``InputDTMFFrame``s; the first key interrupts the bot,
and an entry ends at the terminator (``#`` by default) or ``inter_digit_timeout_s``
after the last key. Its flush makes a ``TranscriptionFrame``, which a Realtime service
ignores, so this subclass routes the entry instead:

- a sequence listed in ``actions`` (terminator stripped, so ``0`` and ``0#`` match ``0``)
  runs that profile tool, e.g. ``"0": {tool: transfer_call, arguments: {destination:
  operator}}``, and the model is told what happened so it can say so;
- anything else goes to the model as one message, ``message`` with ``{keys}`` (``1 2 3 4
  #``) or ``{digits}`` (``1234#``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Literal

from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.frames.frames import CancelFrame, EndFrame, Frame
from pipecat.processors.aggregators.dtmf_aggregator import DTMFAggregator
from pipecat.processors.frame_processor import FrameDirection
from pydantic import Field, field_validator

from bot.config.profiles import check_template
from processors.base import ProcessorContext, ProcessorOptions, ProfileProcessor
from processors.tools.base import ToolError
from processors.tools.dispatch import validate_arguments
from processors.tools.registry import discover_tools

if TYPE_CHECKING:
    from bot.config.profiles import Profile

_KEYS_RE = re.compile(r"[0-9*#]{1,20}")
MESSAGE_FIELDS = ("keys", "digits")


class DtmfAction(ProcessorOptions):
    tool: str = Field(min_length=1)
    arguments: dict[str, Any] = Field(default_factory=dict)


class DtmfOptions(ProcessorOptions):
    inter_digit_timeout_s: float = Field(default=3.0, gt=0, le=30)
    terminator: Literal["#", "*", "none"] = "#"
    message: str = Field(
        default="The caller pressed {keys} on their phone keypad.", min_length=1, max_length=300
    )
    actions: dict[str, DtmfAction] = Field(default_factory=dict)

    @field_validator("message")
    @classmethod
    def _check_message(cls, value: str) -> str:
        check_template(value, MESSAGE_FIELDS)
        return value

    @field_validator("actions")
    @classmethod
    def _check_sequences(cls, value: dict[str, DtmfAction]) -> dict[str, DtmfAction]:
        for keys in value:
            if not _KEYS_RE.fullmatch(keys):
                raise ValueError(f"{keys!r} is not a key sequence (0-9, * and #, 1-20 keys)")
        return value


class Dtmf(ProfileProcessor, DTMFAggregator):
    needs_audio = False  # keys, speech and control frames only (the audio fast lane)
    processor_name = "dtmf"
    Options = DtmfOptions

    def __init__(self, options: DtmfOptions, context: ProcessorContext, **kwargs):
        terminator = None if options.terminator == "none" else KeypadEntry(options.terminator)
        super().__init__(
            options,
            context,
            timeout=options.inter_digit_timeout_s,
            termination_digit=terminator,
            **kwargs,
        )
        self._options = options
        self._terminator = terminator.value if terminator else ""

    @classmethod
    def check_config(cls, options: DtmfOptions, profile: Profile) -> None:
        tools = discover_tools()
        for keys, action in options.actions.items():
            if options.terminator != "none" and keys.endswith(options.terminator):
                raise ValueError(f"actions[{keys!r}]: list sequences without the terminator")
            if action.tool not in profile.tools:
                raise ValueError(
                    f"actions[{keys!r}]: tool {action.tool!r} is not in the profile's tools "
                    f"({', '.join(profile.tools) or 'none'})"
                )
            try:
                validate_arguments(tools[action.tool], action.arguments)
            except ToolError as exc:
                raise ValueError(f"actions[{keys!r}]: {action.tool}: {exc}") from None

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        if isinstance(frame, (EndFrame, CancelFrame)) and self._aggregation:
            # The aggregator would flush it; nobody is left to act on it.
            self.note(f"keys {self._aggregation} dropped: the call ended")
            self._aggregation = ""
        await super().process_frame(frame, direction)

    # Pipecat's private `_flush_aggregation` and `_aggregation`: its one hook for a finished
    # entry, no public one in 1.14; pinned in pipelines/pipecat_internals.py.
    async def _flush_aggregation(self) -> None:
        pressed, self._aggregation = self._aggregation, ""
        if not pressed:
            return
        keys = " ".join(pressed)
        sequence = pressed.removesuffix(self._terminator) if self._terminator else pressed
        action = self._options.actions.get(sequence)
        if action is None:
            self.note(f"keys {pressed}: sent to the model")
            text = self._options.message.format_map({"keys": keys, "digits": pressed})
            await self.context.tell_model(text)
            return
        self.note(f"keys {pressed}: running {action.tool}")
        try:
            result = await self.context.run_tool(action.tool, action.arguments)
        except ToolError as exc:
            self.note(f"{action.tool} refused: {exc}")
            await self.context.tell_model(
                f"The caller pressed {keys} on their keypad for {action.tool}, which failed: "
                f"{exc}. Tell the caller briefly.",
                role="developer",
            )
            return
        await self.context.tell_model(
            f"The caller pressed {keys} on their keypad, which ran {action.tool}. {result.message}",
            role="developer",
            run_llm=result.run_llm,
        )
