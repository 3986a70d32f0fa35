"""What a tool is: a name, a description, a flat pydantic argument model and a ``run``.

A tool file defines one :class:`Tool` subclass; :mod:`processors.tools.registry` finds it
by its ``name``. ``run`` gets validated arguments and the call it acts on
(:class:`ToolContext`) and returns a :class:`ToolResult`, or raises :class:`ToolError`
whose message goes back to the model as an error result while the call continues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from bot.config.delivery import DeliveryConfig
from bot.config.tools import ToolSettings

if TYPE_CHECKING:
    from bot.config.settings import Settings
    from processors.tools.call_actions import CallActions


class ToolArgs(BaseModel):
    """Base of every argument model. Fields must be flat: str, int, float, bool, Literal."""

    model_config = ConfigDict(extra="forbid")


class ToolError(Exception):
    """A refusal the model should hear about (bad destination, nothing to cancel, ...)."""


def allow_listed(requested: str, allowed: dict[str, str], what: str) -> tuple[str, str]:
    """(name, target) for a name from a profile's allow-list; the model only ever names one.
    Raises ToolError listing the allowed names for anything else (a number, an invention)."""
    name = requested.strip().lower()
    if name not in allowed:
        raise ToolError(f"unknown {what} {requested!r}; allowed: {', '.join(sorted(allowed))}")
    return name, allowed[name]


@dataclass(frozen=True)
class ToolResult:
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    # False when the bot is already saying what it needs to (e.g. its farewell).
    run_llm: bool = True

    def payload(self) -> dict[str, Any]:
        return {"ok": True, "message": self.message, **self.data}


AfterCallKind = Literal["call_summary", "transcript"]


@dataclass(frozen=True)
class AfterCallRequest:
    """Something to deliver once the call has ended, built from its call record."""

    kind: AfterCallKind
    summary: str = ""


@dataclass
class ToolContext:
    """The call a tool acts on."""

    call_id: str
    settings: ToolSettings
    actions: CallActions
    after_call: list[AfterCallRequest] = field(default_factory=list)


class Tool:
    name: ClassVar[str]
    description: ClassVar[str]
    Args: ClassVar[type[ToolArgs]] = ToolArgs

    @classmethod
    def describe(cls, settings: ToolSettings) -> str:
        """The description the model sees; override to mention profile values."""
        return cls.description

    @classmethod
    def check_config(cls, settings: ToolSettings, env: Settings) -> None:
        """Raise ``ValueError`` (reason) or ``ConfigError`` if this profile cannot use the tool."""

    async def run(self, args: Any, ctx: ToolContext) -> ToolResult:
        raise NotImplementedError


class AfterCallTool(Tool):
    """A tool whose work is delivered once the call has ended: it needs a destination."""

    @classmethod
    def check_config(cls, settings: ToolSettings, env: Settings) -> None:
        DeliveryConfig.from_settings(env).require_destination(cls.name)


class AllowListTool(Tool):
    """A tool whose one argument names an entry of a profile allow-list (``tool_settings``):
    the model sees the names, never the targets behind them."""

    setting: ClassVar[str]  # the ToolSettings field mapping names to targets
    names_are: ClassVar[str]  # how the description introduces the names
    target_is: ClassVar[str]  # what a target is, for the start-up error

    @classmethod
    def allow_list(cls, settings: ToolSettings) -> dict[str, str]:
        return getattr(settings, cls.setting)

    @classmethod
    def describe(cls, settings: ToolSettings) -> str:
        return f"{cls.description} {cls.names_are}: {', '.join(sorted(cls.allow_list(settings)))}."

    @classmethod
    def check_config(cls, settings: ToolSettings, env: Settings) -> None:
        if not cls.allow_list(settings):
            raise ValueError(
                f"{cls.name} needs tool_settings.{cls.setting} (name -> {cls.target_is})"
            )
