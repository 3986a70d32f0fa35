"""The context aggregator pair of a Realtime (speech-to-speech) call.

Pipecat's user aggregator, left to its defaults, builds its default turn strategies when it
is constructed, and their stop strategy loads the smart-turn v3 ONNX model into a fresh
onnxruntime session (about 9 MB of native memory per call, and its load time at call start).
A Realtime service then announces itself and its recommended `ExternalUserTurnStrategies`
replace those defaults before any audio flows: the session is built for nothing. Giving
the external strategies up front is exactly what the service would adopt (the model's
server-side turn detection drives turns; every profile keeps it on), without the session.

Both halves also run inline (Pipecat's direct mode). Caller audio passes the user half on
its way to the model, and bot audio passes the assistant half after it is written, so each
half's two queues cost every call two event-loop passes per frame, and under load each pass
waits behind every other call's work. Neither half waits on anything slow: they update the
shared context and pass frames on.
"""

from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.processors.aggregators.llm_response_universal import (
    LLMContextAggregatorPair,
    LLMUserAggregatorParams,
)
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.turns.user_stop import ExternalUserTurnStopStrategy
from pipecat.turns.user_turn_strategies import ExternalUserTurnStrategies


def realtime_context_aggregators(context: LLMContext) -> LLMContextAggregatorPair:
    """Both aggregators around a Realtime service whose server-side turn detection is on."""
    strategies = ExternalUserTurnStrategies()
    # Already in the form Pipecat's realtime mode would mutate them into once the service
    # announces itself (and warn about, every call, for strategies given by hand).
    strategies.stop = [ExternalUserTurnStopStrategy(wait_for_transcript=False)]
    pair = LLMContextAggregatorPair(
        context, user_params=LLMUserAggregatorParams(user_turn_strategies=strategies)
    )
    for half in pair:
        run_inline(half)
    return pair


def run_inline(processor: FrameProcessor) -> None:
    """Put a processor Pipecat built into direct mode (before the pipeline starts): Pipecat
    takes the mode only as a constructor argument, which its aggregator pair does not pass
    on. `tests/inprocess/test_context_aggregators.py` checks that frames then go through
    inline; the private name is pinned in pipelines/pipecat_internals.py."""
    processor._enable_direct_mode = True
