"""The context aggregator pair of a Realtime (speech-to-speech) call.

Pipecat's user aggregator, left to its defaults, builds its default turn strategies when it
is constructed, and their stop strategy loads the smart-turn v3 ONNX model into a fresh
onnxruntime session (about 9 MB of native memory per call, and its load time at call start).
A Realtime service then announces itself and its recommended `ExternalUserTurnStrategies`
replace those defaults before any audio flows: the session is built for nothing. Giving
the external strategies up front is exactly what the service would adopt (the model's
server-side turn detection drives turns; every profile keeps it on), without the session.
"""

from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.turns.user_turn_strategies import ExternalUserTurnStrategies


def realtime_context_aggregators(context: LLMContext) -> LLMContextAggregatorPair:
    """Both aggregators around a Realtime service whose server-side turn detection is on."""
    return LLMContextAggregatorPair(
        context,
        user_params=LLMUserAggregatorParams(user_turn_strategies=ExternalUserTurnStrategies()),
    )
