"""Unparseable function-call arguments get an error result instead of silence.

Pipecat 1.14's Realtime service logs and drops a function call whose arguments are not
valid JSON, leaving the API waiting for a `function_call_output` that never comes: the bot
goes quiet. The service hands such a call on with the raw text under a marker key, so the
tool's handler (processors/tools/dispatch.py) answers the model with an error result.
"""

import json

from loguru import logger
from pipecat.services.openai.realtime.events import ResponseFunctionCallArgumentsDone

from processors.tools.dispatch import UNPARSEABLE_ARGUMENTS_KEY

RAW_ARGUMENTS_KEPT = 200


def guard_tool_arguments(
    evt: ResponseFunctionCallArgumentsDone,
) -> ResponseFunctionCallArgumentsDone:
    """``evt`` itself when its arguments parse; else a copy whose arguments carry the marker."""
    try:
        json.loads(evt.arguments)
    except (TypeError, ValueError) as exc:
        logger.warning(
            f"function call {evt.call_id}: arguments are not JSON ({exc}); "
            "answering with an error result"
        )
        marked = {UNPARSEABLE_ARGUMENTS_KEY: str(evt.arguments)[:RAW_ARGUMENTS_KEPT]}
        return evt.model_copy(update={"arguments": json.dumps(marked)})
    return evt
