"""Orders one call's processors. Every transport family and every profile goes through here,
so the data flow is written down once:

    transport in → input filters → echo gate → user context → [before_llm] → Realtime
    → tool processors → [after_llm] → (caller audio stops) → transport out
    → echo reference tap → assistant context

Pipecat needs both context aggregators around a Realtime service: the user half turns
`LLMRunFrame` into the context frame that makes the greeting, and the assistant half
asks for the reply after a tool result.
"""

from dataclasses import dataclass, field

from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.transports.base_transport import BaseTransport

from pipelines.transports.caller_audio_stop import CallerAudioStop


@dataclass
class PipelineSlots:
    """The places a call's own processors go. Empty slots cost nothing."""

    # Which inbound audio counts at all (e.g. one participant of a room), before anything else.
    input_filters: list[FrameProcessor] = field(default_factory=list)
    echo_gate: list[FrameProcessor] = field(default_factory=list)
    before_llm: list[FrameProcessor] = field(default_factory=list)
    tool_processors: list[FrameProcessor] = field(default_factory=list)
    after_llm: list[FrameProcessor] = field(default_factory=list)
    # Right after transport output: sees each audio chunk as it is written to the line.
    after_output: list[FrameProcessor] = field(default_factory=list)


def compose_pipeline(
    *,
    transport: BaseTransport,
    llm: FrameProcessor,
    aggregators: LLMContextAggregatorPair,
    slots: PipelineSlots,
) -> Pipeline:
    return Pipeline(
        [
            transport.input(),
            *slots.input_filters,
            *slots.echo_gate,
            aggregators.user(),
            *slots.before_llm,
            llm,
            *slots.tool_processors,
            *slots.after_llm,
            CallerAudioStop(),
            transport.output(),
            *slots.after_output,
            aggregators.assistant(),
        ]
    )
