"""Fills a CallRecord from a running call: Pipecat's aggregator events, the turn-latency
observer and usage metrics. It never sits on the audio path."""

import time
from collections.abc import Awaitable, Callable

from loguru import logger
from pipecat.frames.frames import FunctionCallInProgressFrame, FunctionCallResultFrame, MetricsFrame
from pipecat.metrics.metrics import LLMUsageMetricsData
from pipecat.observers.base_observer import BaseObserver, FramePushed
from pipecat.processors.aggregators.llm_response_universal import LLMContextAggregatorPair

from bot.call.pricing import PriceTable, estimate_cost_usd
from bot.call.record import (
    CallEvent,
    CallRecord,
    ToolCallEntry,
    TranscriptEntry,
    TurnLatency,
    utc_now_iso,
)
from bot.config.caller_info import bounded_arguments


class CallRecorder(BaseObserver):
    """Observer for usage and tool calls; subscribes to transcript and latency events."""

    def __init__(
        self,
        record: CallRecord,
        prices: PriceTable | None = None,
        on_reply_done: Callable[[float], Awaitable[None]] | None = None,
    ):
        """`on_reply_done` is told the call's running cost (USD) after each reply's usage."""
        super().__init__(observe_every_push=False)
        self.record = record
        self._prices = prices
        self._model_prices = prices.for_model(record.model) if prices else None
        self._on_reply_done = on_reply_done
        self._started = time.monotonic()
        self._tool_calls_by_id: dict[str, ToolCallEntry] = {}

    def attach(self, aggregators: LLMContextAggregatorPair) -> None:
        @aggregators.user().event_handler("on_user_turn_message_added")
        async def on_user_message(_aggregator, message):
            self._add_transcript("caller", message.content)

        @aggregators.assistant().event_handler("on_assistant_turn_stopped")
        async def on_assistant_turn(_aggregator, message):
            self._add_transcript("bot", message.content)

    async def on_greeting_latency(self, seconds: float) -> None:
        self.record.greeting_latency_s = round(seconds, 3)

    async def on_turn_latency(self, seconds: float) -> None:
        turn = len(self.record.turns) + 1
        self.record.turns.append(TurnLatency(turn=turn, latency_s=round(seconds, 3)))
        logger.info(f"call {self.record.call_id}: turn {turn} latency {seconds:.3f}s")

    def _add_transcript(self, role: str, text: str | None) -> None:
        if text and text.strip():
            self.record.transcript.append(
                TranscriptEntry(role=role, text=text.strip(), at=utc_now_iso())
            )

    async def on_push_frame(self, data: FramePushed):
        frame = data.frame
        if isinstance(frame, MetricsFrame):
            for item in frame.data:
                if isinstance(item, LLMUsageMetricsData):
                    self._add_usage(item)
                    if self._on_reply_done is not None:
                        await self._on_reply_done(self.running_cost_usd())
        elif (
            isinstance(frame, FunctionCallInProgressFrame)
            # Broadcast frames are pushed both ways: record each call once.
            and frame.tool_call_id not in self._tool_calls_by_id
        ):
            entry = ToolCallEntry(
                name=frame.function_name,
                arguments=bounded_arguments(dict(frame.arguments or {})),
                at=utc_now_iso(),
            )
            self._tool_calls_by_id[frame.tool_call_id] = entry
            self.record.tool_calls.append(entry)
        elif isinstance(frame, FunctionCallResultFrame):
            entry = self._tool_calls_by_id.get(frame.tool_call_id)
            if entry is not None:
                entry.result = str(frame.result)[:500]

    def _add_usage(self, item: LLMUsageMetricsData) -> None:
        tokens = item.value
        usage = self.record.usage
        audio_in = tokens.input_audio_tokens or 0
        audio_out = tokens.output_audio_tokens or 0
        usage.input_audio += audio_in
        usage.input_text += max(tokens.prompt_tokens - audio_in, 0)
        usage.input_cached += tokens.cache_read_input_tokens or 0
        usage.output_audio += audio_out
        usage.output_text += max(tokens.completion_tokens - audio_out, 0)

    @property
    def priced(self) -> bool:
        return self._model_prices is not None

    def running_cost_usd(self) -> float:
        """The estimate so far (0 when the model has no price): what the record will say."""
        if self._model_prices is None:
            return 0.0
        return estimate_cost_usd(self.record.usage, self._model_prices)

    def add_bot_line(self, text: str) -> None:
        """A line the bot played without the model (a recording): it is what the caller heard."""
        self._add_transcript("bot", text)

    def add_event(self, source: str, event: str) -> None:
        logger.info(f"call {self.record.call_id}: {source}: {event}")
        self.record.events.append(CallEvent(source=source, event=event[:300], at=utc_now_iso()))

    def add_error(self, message: str) -> None:
        self.record.errors.append(message[:300])

    def finish(self, end_reason: str) -> CallRecord:
        record = self.record
        if not record.end_reason:
            record.end_reason = end_reason
        record.ended_at = utc_now_iso()
        record.duration_s = round(time.monotonic() - self._started, 3)
        if self._prices and self._model_prices:
            record.cost_usd = self.running_cost_usd()
            record.prices_as_of = self._prices.as_of
            record.prices_source = self._prices.source
        return record
