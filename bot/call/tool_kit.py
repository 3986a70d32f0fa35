"""A profile's tools, checked once at start-up (`ToolKit`) and wired into each call
(`CallTools`): the Realtime tool schemas, the handlers, the tool processors and the
after-call deliveries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from loguru import logger
from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.services.llm_service import LLMService

from bot.call.delivery import deliver
from bot.call.record import CallRecord
from bot.config.delivery import DeliveryConfig
from bot.config.errors import ConfigError
from bot.config.profiles import Profile
from bot.config.settings import Settings
from bot.config.tools import ToolSettings
from processors.tools.base import Tool, ToolContext, ToolError, ToolResult
from processors.tools.call_actions import CallActions
from processors.tools.call_control import CallControl
from processors.tools.dispatch import make_handler, validate_arguments
from processors.tools.farewell_guard import FarewellGuard
from processors.tools.registry import discover_tools, function_schema

HANGUP_TOOL = "hangup_call"


@dataclass(frozen=True)
class ToolKit:
    tools: tuple[type[Tool], ...]
    settings: ToolSettings
    delivery: DeliveryConfig

    @classmethod
    def from_profile(cls, profile: Profile, settings: Settings) -> ToolKit:
        """Resolve the profile's tool names; any problem stops start-up with a ConfigError."""
        available = discover_tools()
        chosen: list[type[Tool]] = []
        for name in profile.tools:
            if name not in available:
                raise ConfigError(
                    f"profile {profile.name}: tools",
                    f"unknown tool {name!r}; available tools: {', '.join(sorted(available))}",
                )
            tool = available[name]
            try:
                tool.check_config(profile.tool_settings, settings)
                function_schema(tool, profile.tool_settings)
            except (ValueError, TypeError) as exc:
                raise ConfigError(f"profile {profile.name}: tools", str(exc)) from None
            chosen.append(tool)
        return cls(tuple(chosen), profile.tool_settings, DeliveryConfig.from_settings(settings))

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.tools]

    def schema(self) -> ToolsSchema | None:
        if not self.tools:
            return None
        return ToolsSchema(standard_tools=[function_schema(t, self.settings) for t in self.tools])

    def for_call(
        self,
        *,
        call_id: str,
        control: CallControl | None,
        end_call: Callable[[str], Awaitable[None]],
        on_error: Callable[[str], None],
    ) -> CallTools:
        return CallTools(self, call_id, control, end_call, on_error)


class CallTools:
    def __init__(
        self,
        kit: ToolKit,
        call_id: str,
        control: CallControl | None,
        end_call: Callable[[str], Awaitable[None]],
        on_error: Callable[[str], None],
    ):
        self._kit = kit
        self.actions = CallActions(
            call_id=call_id,
            end_call=end_call,
            control=control,
            hangup_timeout_s=kit.settings.hangup_timeout_s,
            max_farewell_s=kit.settings.max_farewell_s,
            on_error=on_error,
        )
        self.context = ToolContext(call_id=call_id, settings=kit.settings, actions=self.actions)
        self.processors: list[FrameProcessor] = [self.actions]
        guard = kit.settings.farewell_guard
        if guard.enabled and HANGUP_TOOL in kit.names:
            self.processors.append(
                FarewellGuard(
                    call_id=call_id, settings=guard, actions=self.actions, end_call=end_call
                )
            )

    def register(self, llm: LLMService) -> None:
        for tool in self._kit.tools:
            llm.register_function(tool.name, make_handler(tool, self.context))

    async def run(self, name: str, arguments: Mapping[str, object]) -> ToolResult:
        """Run a profile tool for the call itself (not the model), e.g. on a keypad press.

        Raises:
            ToolError: unknown tool, bad arguments, or the tool's own refusal.
        """
        tool = next((t for t in self._kit.tools if t.name == name), None)
        if tool is None:
            raise ToolError(f"tool {name!r} is not in this profile's tools")
        result = await tool().run(validate_arguments(tool, arguments), self.context)
        logger.info(f"call {self.context.call_id}: tool {name} (run by the call): {result.message}")
        return result

    async def after_call(self, record: CallRecord) -> list[str]:
        """Deliver what the tools asked for; returns failures for the call record."""
        requests = self.context.after_call
        if not requests:
            return []
        logger.info(f"call {record.call_id}: delivering {', '.join(r.kind for r in requests)}")
        return await deliver(requests, record, self._kit.delivery)
