"""Finds the tools in this package by name and turns their argument models into flat
Realtime function schemas (Pipecat ``FunctionSchema`` → the Realtime adapter)."""

from __future__ import annotations

from typing import Any

from pipecat.adapters.llm.schemas.function_schema import FunctionSchema

from bot.config.tools import ToolSettings
from processors.discovery import discover_named_classes
from processors.tools.base import Tool

# Keys the Realtime API accepts inside one flat property; `title` is pydantic noise.
_DROPPED_KEYS = ("title",)
_NESTING_KEYS = ("$ref", "$defs", "anyOf", "allOf", "oneOf", "properties", "items")


def discover_tools(package: str = "processors.tools.builtin") -> dict[str, type[Tool]]:
    """Every :class:`Tool` subclass defined in a module of ``package``, by name."""
    return discover_named_classes(package, Tool, lambda cls: cls.name, "tool")


def flat_properties(tool: type[Tool]) -> tuple[dict[str, Any], list[str]]:
    """JSON-schema properties of the tool's argument model, refusing anything nested.

    Seed 002: a nested schema made the Realtime API drop the tools, so "goodbye" never
    hung up. A nested argument model is a programming error and fails at start-up.
    """
    schema = tool.Args.model_json_schema()
    if "$defs" in schema:
        raise TypeError(f"tool {tool.name}: arguments must be flat (no nested models)")
    properties: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        nested = [k for k in _NESTING_KEYS if k in prop]
        if nested:
            raise TypeError(
                f"tool {tool.name}: argument {name!r} is not flat ({', '.join(nested)}); "
                "use str/int/float/bool/Literal fields with defaults instead of Optional"
            )
        properties[name] = {k: v for k, v in prop.items() if k not in _DROPPED_KEYS}
    return properties, list(schema.get("required", []))


def function_schema(tool: type[Tool], settings: ToolSettings) -> FunctionSchema:
    properties, required = flat_properties(tool)
    return FunctionSchema(
        name=tool.name,
        description=tool.describe(settings),
        properties=properties,
        required=required,
    )
