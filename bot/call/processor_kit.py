"""A profile's ``processors:`` list, checked once at start-up (:class:`ProcessorKit`) and
built into each call's pipeline slots (:meth:`ProcessorKit.for_call`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pipecat.processors.frame_processor import FrameProcessor
from pydantic import ValidationError

from bot.call.recorder import CallRecorder
from bot.call.tool_kit import CallTools
from bot.config.errors import ConfigError
from bot.config.profiles import Profile
from pipelines.composer import PipelineSlots
from processors.base import ProcessorContext, ProcessorOptions, ProfileProcessor
from processors.model_inlet import ModelInlet
from processors.registry import ProcessorRegistry
from processors.tools.base import ToolError, ToolResult
from processors.tools.call_actions import CallActions
from processors.tools.call_control import CallControl

Position = Literal["before_llm", "after_llm"]


@dataclass(frozen=True)
class ResolvedProcessor:
    cls: type[ProfileProcessor]
    options: ProcessorOptions
    position: Position


@dataclass
class PlacedProcessors:
    """One call's processor instances, by slot."""

    before_llm: list[FrameProcessor] = field(default_factory=list)
    after_llm: list[FrameProcessor] = field(default_factory=list)
    tool_processors: list[FrameProcessor] = field(default_factory=list)

    def fill(self, slots: PipelineSlots) -> None:
        slots.before_llm = [*slots.before_llm, *self.before_llm]
        slots.tool_processors = [*slots.tool_processors, *self.tool_processors]
        slots.after_llm = [*slots.after_llm, *self.after_llm]


def _options_error(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    reason = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        reason = "unknown option"
    return where, reason


@dataclass(frozen=True)
class ProcessorKit:
    profile: Profile
    entries: tuple[ResolvedProcessor, ...]

    @classmethod
    def from_profile(
        cls, profile: Profile, registry: ProcessorRegistry | None = None
    ) -> ProcessorKit:
        """Resolve every listed processor and validate its options.

        Raises:
            ConfigError: keyed ``profile <name>: processors[i].name`` or
                ``processors[i].options.<key>``.
        """
        registry = registry or ProcessorRegistry()
        resolved: list[ResolvedProcessor] = []
        for index, spec in enumerate(profile.processors):
            key = f"profile {profile.name}: processors[{index}]"
            try:
                processor_cls = registry.resolve(spec.name)
            except (ValueError, TypeError) as exc:
                raise ConfigError(f"{key}.name", str(exc)) from None
            try:
                options = processor_cls.Options.model_validate(spec.options)
            except ValidationError as exc:
                where, reason = _options_error(exc)
                raise ConfigError(f"{key}.options.{where}".rstrip("."), reason) from None
            try:
                processor_cls.check_config(options, profile)
            except ValueError as exc:
                raise ConfigError(f"{key}.options", str(exc)) from None
            resolved.append(ResolvedProcessor(processor_cls, options, spec.position))
        return cls(profile, tuple(resolved))

    @property
    def names(self) -> list[str]:
        return [f"{e.cls.processor_name or e.cls.__name__}@{e.position}" for e in self.entries]

    def for_call(
        self,
        *,
        call_id: str,
        recorder: CallRecorder,
        end_call: Callable[[str], Awaitable[None]],
        control: CallControl | None,
        tools: CallTools | None,
    ) -> PlacedProcessors:
        """Fresh instances for one call, plus what they need to act on it."""
        placed = PlacedProcessors()
        if not self.entries:
            return placed
        if tools is not None:
            actions = tools.actions
        else:
            # Hang-ups from processors take the tools' path even when the profile has no
            # tools: after the bot's audio, with the same timeouts.
            settings = self.profile.tool_settings
            actions = CallActions(
                call_id=call_id,
                end_call=end_call,
                control=control,
                hangup_timeout_s=settings.hangup_timeout_s,
                max_farewell_s=settings.max_farewell_s,
                on_error=recorder.add_error,
            )
            placed.tool_processors.append(actions)
        inlet = ModelInlet()
        context = ProcessorContext(
            call_id=call_id,
            profile_name=self.profile.name,
            say=inlet.say,
            tell_model=inlet.tell_model,
            hang_up_after_speech=actions.hang_up_after_speech,
            run_tool=_tool_runner(tools),
            note=recorder.add_event,
        )
        for entry in self.entries:
            instance = entry.cls(entry.options, context)
            getattr(placed, entry.position).append(instance)
        placed.before_llm.append(inlet)
        return placed


def _tool_runner(
    tools: CallTools | None,
) -> Callable[[str, Mapping[str, Any]], Awaitable[ToolResult]]:
    async def run_tool(name: str, arguments: Mapping[str, Any]) -> ToolResult:
        if tools is None:
            raise ToolError(f"tool {name!r} is not in this profile's tools")
        return await tools.run(name, arguments)

    return run_tool
