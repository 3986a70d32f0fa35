"""Runs one tool call for Pipecat: validate the arguments, run the tool, answer the model.

Every outcome answers the model with a result, so a bad or hallucinated call never leaves
the Realtime conversation waiting on a function output: the call simply continues.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from loguru import logger
from pipecat.frames.frames import FunctionCallResultProperties
from pipecat.services.llm_service import FunctionCallParams
from pydantic import ValidationError

from processors.tools.base import Tool, ToolContext, ToolError

# The Realtime service puts unparseable argument text under this key (see
# pipelines/realtime/tool_args.py) instead of dropping the call.
UNPARSEABLE_ARGUMENTS_KEY = "__unparseable_arguments__"

Handler = Callable[[FunctionCallParams], Awaitable[None]]


def error_payload(message: str) -> dict[str, Any]:
    return {"ok": False, "error": message}


def _validation_reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def validate_arguments(tool: type[Tool], arguments: Any) -> Any:
    """The tool's argument model, or ToolError saying what is wrong with the call."""
    if isinstance(arguments, Mapping) and UNPARSEABLE_ARGUMENTS_KEY in arguments:
        raise ToolError("the arguments were not valid JSON; call again with a JSON object")
    if not isinstance(arguments, Mapping):
        raise ToolError("the arguments must be a JSON object")
    try:
        return tool.Args.model_validate(dict(arguments))
    except ValidationError as exc:
        raise ToolError(f"invalid arguments: {_validation_reason(exc)}") from None


def make_handler(tool: type[Tool], ctx: ToolContext) -> Handler:
    instance = tool()

    async def handle(params: FunctionCallParams) -> None:
        prefix = f"call {ctx.call_id}: tool {tool.name}"
        try:
            args = validate_arguments(tool, params.arguments)
            result = await instance.run(args, ctx)
        except ToolError as exc:
            logger.warning(f"{prefix} refused: {exc}")
            await params.result_callback(error_payload(str(exc)))
            return
        logger.info(f"{prefix}: {result.message}")
        await params.result_callback(
            result.payload(), properties=FunctionCallResultProperties(run_llm=result.run_llm)
        )

    return handle
