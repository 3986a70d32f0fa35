"""Orders one call's processors. Every transport family and every profile goes through here,
so the data flow is written down once:

    transport in → input filters → echo gate → user context → [before_llm] → Realtime
    → tool processors → [after_llm] → (caller audio stops) → transport out
    → echo reference tap → assistant context

Pipecat needs both context aggregators around a Realtime service: the user half turns
`LLMRunFrame` into the context frame that makes the greeting, and the assistant half
asks for the reply after a tool result.

**The audio lane.** Every processor says whether it wants the audio stream (a
``needs_audio`` class attribute; one that does not say is taken to want it). When none on
the way between the line and the model does, the call takes the *fast* lane
(pipelines/audio_lane.py): caller audio leaves right after the echo gate for the Realtime
service's audio input, and the model's audio goes straight into the output transport, so
audio no longer walks past every processor, queue and observer; everything else (control
frames, transcripts, tool calls, interruptions, the end of the call) flows through the
whole pipeline as before. Otherwise, or when asked (``AUDIO_LANE=full``), the *full* path
is the pipeline above, unchanged.
"""

from dataclasses import dataclass, field
from typing import Literal

from loguru import logger
from pipecat.pipeline.pipeline import Pipeline
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair
from pipecat.processors.frame_processor import FrameProcessor
from pipecat.transports.base_transport import BaseTransport

from pipelines.audio_lane import (
    BotAudioStop,
    CallerAudioInlet,
    CallerAudioStage,
    FastLaneService,
    join_bot_audio,
    join_caller_audio,
)
from pipelines.transports.caller_audio_stop import CallerAudioStop
from pipelines.transports.line import LineTransport

AudioLane = Literal["fast", "full"]
AudioLaneChoice = Literal["auto", "full"]


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


@dataclass(frozen=True)
class ComposedPipeline:
    pipeline: Pipeline
    lane: AudioLane
    # Why the full path, when it is (the log line and the tests read it).
    reason: str = ""


def needs_audio(processor: FrameProcessor) -> bool:
    """Whether ``processor`` wants to see the audio stream; a processor that does not say
    does (a user's processor may count, record or filter audio)."""
    return bool(getattr(processor, "needs_audio", True))


def caller_audio_stages(slots: PipelineSlots) -> list[FrameProcessor]:
    """What caller audio passes as bytes on the fast lane: the input filters that take bytes
    (the budget's caller mute), then the echo gate. An input filter that does not take bytes
    does not need audio (else the call is on the full lane), so it is left out of the audio."""
    filters = [f for f in slots.input_filters if isinstance(f, CallerAudioStage)]
    return [*filters, *slots.echo_gate]


def choose_audio_lane(
    *,
    transport: BaseTransport,
    llm: FrameProcessor,
    slots: PipelineSlots,
    choice: AudioLaneChoice = "auto",
) -> tuple[AudioLane, str]:
    """The lane this call's audio takes, and why not the fast one when it is not."""
    if choice == "full":
        return "full", "AUDIO_LANE=full"
    if not isinstance(transport, LineTransport):
        return "full", "not a phone line"
    if not isinstance(llm, FastLaneService):
        return "full", "the model service has no direct audio input"
    between = [*slots.input_filters, *slots.before_llm, *slots.tool_processors, *slots.after_llm]
    hungry = [p.name for p in between if needs_audio(p)]
    if hungry:
        return "full", f"needs audio: {', '.join(hungry)}"
    return "fast", ""


def compose_pipeline(
    *,
    transport: BaseTransport,
    llm: FrameProcessor,
    aggregators: LLMContextAggregatorPair,
    slots: PipelineSlots,
    lane_choice: AudioLaneChoice = "auto",
    call_id: str = "",
) -> ComposedPipeline:
    lane, reason = choose_audio_lane(transport=transport, llm=llm, slots=slots, choice=lane_choice)
    logger.info(f"call {call_id}: audio lane {lane}" + (f" ({reason})" if reason else ""))
    if lane == "fast":
        assert isinstance(llm, FastLaneService) and isinstance(transport, LineTransport)
        output = transport.output()
        # Caller audio as bytes from the line through the echo gate into the model; the
        # model's audio straight into the output transport (inline, no queue), which still
        # writes, paces, signals the bot speaking and feeds the echo reference.
        # Where a stage cannot take bytes, audio stays frames up to the lane's ends.
        inlet = (
            []
            if join_caller_audio(transport.input(), caller_audio_stages(slots), llm)
            else [CallerAudioInlet(llm)]
        )
        stop = [] if join_bot_audio(llm, output, slots.after_output) else [BotAudioStop()]
        return ComposedPipeline(
            Pipeline(
                [
                    transport.input(),
                    *slots.input_filters,
                    *slots.echo_gate,
                    *inlet,
                    aggregators.user(),
                    *slots.before_llm,
                    llm,
                    *slots.tool_processors,
                    *slots.after_llm,
                    output,
                    *slots.after_output,
                    *stop,
                    aggregators.assistant(),
                ]
            ),
            lane,
        )
    return ComposedPipeline(
        Pipeline(
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
        ),
        lane,
        reason,
    )
