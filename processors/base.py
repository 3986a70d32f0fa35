"""What a profile processor is: a Pipecat ``FrameProcessor`` with a pydantic options model,
built once per call from its options and the call it runs in (:class:`ProcessorContext`).

A profile places one by name::

    processors:
      - name: no_input_watchdog            # a built-in (a module in processors/)
        position: before_llm               # or after_llm
        options: {timeout_s: 8}
      - name: mypkg.filters:CrossTalkMeter # your own class, by dotted path

Start-up validates every entry (name, options, :meth:`ProfileProcessor.check_config`);
each call then builds fresh instances, so no state leaks from one call to the next.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pipecat.processors.frame_processor import FrameProcessor
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from bot.config.profiles import Profile
    from processors.tools.base import ToolResult


class ProcessorOptions(BaseModel):
    """Base of every options model: unknown keys are a start-up error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class ProcessorContext:
    """The call a processor runs in. Every service is bound to this one call.

    - ``say(line)``: the bot speaks ``line`` (verbatim) through the Realtime service.
    - ``tell_model(text, role="user", run_llm=True)``: put a message into the conversation
      (``user``: from the caller's side; ``developer``: about the call) and, with
      ``run_llm``, let the model answer it.
    - ``hang_up_after_speech(reason)``: end the call once the bot's current or next
      utterance has played (the same path as the ``hangup_call`` tool); ``reason`` becomes
      the record's ``end_reason``.
    - ``run_tool(name, arguments)``: run one of the profile's tools as if the model had
      called it; raises ``ToolError`` on a refusal.
    - ``note(source, event)``: add an entry to the call record's ``events`` and the log
      (processors use :meth:`ProfileProcessor.note`).
    """

    call_id: str
    profile_name: str
    say: Callable[[str], Awaitable[None]]
    tell_model: Callable[..., Awaitable[None]]
    hang_up_after_speech: Callable[[str], Awaitable[None]]
    run_tool: Callable[[str, Mapping[str, Any]], Awaitable[ToolResult]]
    note: Callable[[str, str], None]


class ProfileProcessor(FrameProcessor):
    """Subclass this, set ``processor_name`` (built-ins and entry points) and ``Options``.

    (Not ``name``: Pipecat's ``FrameProcessor.name`` is the instance's own name.)

    Follow Pipecat's pattern in ``process_frame``: call ``super().process_frame`` first,
    handle your frames, and push every frame on in its direction.
    """

    processor_name: ClassVar[str] = ""
    Options: ClassVar[type[ProcessorOptions]] = ProcessorOptions
    # Whether this processor wants the call's audio frames. A processor that does not (it
    # reacts to speech, keys, tool and control frames only) sets False, and a call whose
    # processors all do takes the audio fast lane: audio then skips them (docs/processors.md).
    needs_audio: ClassVar[bool] = True

    def __init__(self, options: ProcessorOptions, context: ProcessorContext, **kwargs: Any):
        kwargs.setdefault("name", self.processor_name or None)
        super().__init__(**kwargs)
        self.options = options
        self.context = context

    def note(self, event: str) -> None:
        """Put ``event`` in the call record (``events``) and the log, tagged with this stage."""
        self.context.note(self.processor_name or type(self).__name__, event)

    @classmethod
    def check_config(cls, options: ProcessorOptions, profile: Profile) -> None:
        """Raise ``ValueError`` (the reason) if this profile cannot use these options."""
