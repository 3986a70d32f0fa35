"""One call, whatever the transport: build the pipeline, greet, run until either side ends,
write the call record. An exception here ends this call only."""

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from loguru import logger
from pipecat.frames.frames import EndWorkerFrame, ErrorFrame, LLMRunFrame
from pipecat.observers.base_observer import BaseObserver
from pipecat.pipeline.worker import PipelineParams, PipelineWorker
from pipecat.processors.aggregators.llm_context import LLMContext
from pipecat.transports.base_transport import BaseTransport
from pipecat.workers.runner import WorkerRunner

from bot.call.budget import END_REASON_BUDGET, CallBudget
from bot.call.fallback_prompt import END_REASON_RATE_LIMITED, fallback_audio_for
from bot.call.observer_fanout import FanOutObserver
from bot.call.pricing import PriceTable
from bot.call.processor_kit import ProcessorKit
from bot.call.record import CallRecord, append_record, utc_now_iso
from bot.call.recorder import CallRecorder
from bot.call.tool_kit import ToolKit
from bot.call.turn_latency import TurnLatencyObserver
from bot.config.caller_info import CallerInfo
from bot.config.profiles import Profile
from bot.config.realtime import RealtimeResilienceConfig
from pipelines.caller_mute import CallerMute
from pipelines.composer import AudioLaneChoice, PipelineSlots, compose_pipeline
from pipelines.context_aggregators import realtime_context_aggregators
from pipelines.realtime.g711 import G711_RATE, G711Codec
from pipelines.realtime.service import create_realtime_service
from pipelines.transports.media_stream_guard import LineGuard
from processors.echo.gate import EchoGate, create_echo_gate
from processors.tools.call_control import CallControl

# The emulator keys on this marker to voice the greeting verbatim; the real model reads it
# as an instruction. One convention, shared with sim/realtime.
GREETING_MARKER = "Say exactly:"

# The budget line is one short reply; past this its audio is not coming and the call ends.
BUDGET_LINE_WAIT_S = 10.0


@dataclass(frozen=True)
class RealtimeEndpoint:
    url: str
    api_key: str
    emulated: bool = False


@dataclass
class CallSpec:
    """Everything that makes this call different from the next one."""

    call_id: str
    transport_name: str
    caller: CallerInfo
    profile: Profile
    company_name: str
    realtime: RealtimeEndpoint
    records_dir: Path
    prices: PriceTable | None = None
    audio_sample_rate: int = 8000
    # The G.711 law an 8 kHz line speaks to the model (A-law on Asterisk alaw lines).
    g711: G711Codec = "pcmu"
    # Phone lines echo the bot back; room clients (browsers, LiveKit/Daily SDKs) run their own
    # echo cancellation, and the gate's analysis is built for 20 ms frames of a phone line.
    line_echo: bool = True
    toolkit: ToolKit | None = None
    resilience: RealtimeResilienceConfig = field(default_factory=RealtimeResilienceConfig)
    processors: ProcessorKit | None = None
    # Scrubs secrets from the record before it is written (bot.security.redaction).
    redact: Callable[[dict], dict] | None = None
    # Told each turn's latency as it happens (the server's metrics); the record has them too.
    on_turn_latency: Callable[[float], None] | None = None
    # `auto`: the audio fast lane when the call's processors allow it; `full`: never
    # (pipelines/composer.py).
    audio_lane: AudioLaneChoice = "auto"


def greeting_message(greeting: str) -> dict:
    return {
        "role": "developer",
        "content": f'The call has just connected. Greet the caller. {GREETING_MARKER} "{greeting}"',
    }


def fallback_instructions(fallback_line: str) -> str:
    """Response instructions for the line said when the model cannot answer in time."""
    return f'Apologise briefly. {GREETING_MARKER} "{fallback_line}"'


def budget_instructions(budget_line: str) -> str:
    """Response instructions for the line said before a call ends on its cost cap."""
    return f'Wrap up the call politely now. {GREETING_MARKER} "{budget_line}"'


class Call:
    """Runs one call's pipeline to its end and leaves a CallRecord behind."""

    def __init__(
        self,
        spec: CallSpec,
        transport: BaseTransport,
        slots: PipelineSlots | None = None,
        line_guard: LineGuard | None = None,
        call_control: CallControl | None = None,
        client_events: bool = True,
    ):
        """`client_events`: greet on the transport's `on_client_connected` and end on
        `on_client_disconnected` (one client per transport, as on a phone line). Room
        transports pass False and call `start_greeting()` / `end()` from their own events."""
        self.spec = spec
        self._client_events = client_events
        self._greeted = False
        self._rate_limited = False  # no session to be had: the recorded fallback line instead
        self._transport = transport
        self._line_guard = line_guard
        self._end_reason: str | None = None
        self.budget = CallBudget(spec.profile.max_call_cost_usd)
        self._budget_task: asyncio.Task | None = None
        self.recorder = CallRecorder(
            self._new_record(), prices=spec.prices, on_reply_done=self._after_reply
        )
        if self.budget.cap_usd and not self.recorder.priced:
            logger.warning(
                f"call {spec.call_id}: max_call_cost_usd is set but model {spec.profile.model} "
                "has no price (PRICES_FILE): the cost cap cannot apply"
            )
        self._tools = (
            spec.toolkit.for_call(
                call_id=spec.call_id,
                control=call_control,
                end_call=self.end,
                on_error=self.recorder.add_error,
            )
            if spec.toolkit and spec.toolkit.tools
            else None
        )
        # time.monotonic() once the pipeline runs; a slow start is not the line's silence.
        self.started_at: float | None = None
        self._llm = create_realtime_service(
            spec.profile,
            api_key=spec.realtime.api_key,
            company_name=spec.company_name,
            base_url=spec.realtime.url,
            tools=spec.toolkit.schema() if self._tools and spec.toolkit else None,
            resilience=spec.resilience,
            stats=self.recorder.record.realtime,
            fallback_instructions=fallback_instructions(spec.profile.fallback_line),
            call_id=spec.call_id,
            # An 8 kHz pipeline is a phone line: G.711 to the model, no resampling.
            g711=spec.g711 if spec.audio_sample_rate == G711_RATE else None,
            on_rate_limited=self._on_rate_limited,
        )
        slots = slots or PipelineSlots()
        # Last among the input filters, so a room's own filter still picks whose audio counts.
        self._caller_mute = CallerMute()
        slots.input_filters = [*slots.input_filters, self._caller_mute]
        if self._tools is not None:
            self._tools.register(self._llm)
            slots.tool_processors = [*slots.tool_processors, *self._tools.processors]
        if spec.processors is not None:
            spec.processors.for_call(
                call_id=spec.call_id,
                recorder=self.recorder,
                end_call=self.end,
                control=call_control,
                tools=self._tools,
            ).fill(slots)
        greeting = spec.profile.render_greeting(spec.caller, spec.company_name)
        self._context = LLMContext(messages=[greeting_message(greeting)])
        self._aggregators = realtime_context_aggregators(self._context)
        echo = create_echo_gate(spec.profile.echo_gate) if spec.line_echo else None
        self.echo_gate: EchoGate | None = echo.gate if echo else None
        if echo:
            slots.echo_gate.insert(0, echo.gate)
            slots.after_output.insert(0, echo.tap)
        composed = compose_pipeline(
            transport=transport,
            llm=self._llm,
            aggregators=self._aggregators,
            slots=slots,
            lane_choice=spec.audio_lane,
            call_id=spec.call_id,
        )
        pipeline = composed.pipeline
        self.recorder.record.audio_lane = composed.lane
        self.recorder.attach(self._aggregators)
        latency = TurnLatencyObserver(
            on_greeting=self.recorder.on_greeting_latency, on_turn=self._on_turn_latency
        )
        self._worker = PipelineWorker(
            pipeline,
            params=PipelineParams(
                audio_in_sample_rate=spec.audio_sample_rate,
                audio_out_sample_rate=spec.audio_sample_rate,
                enable_metrics=True,
                enable_usage_metrics=True,
            ),
            observers=[FanOutObserver(latency, self.recorder)],
            enable_rtvi=False,
            # Both would be two more per-frame observer tasks; calls have their own limits
            # (bot/telephony/limits.py) and their own turn latency (above).
            enable_turn_tracking=False,
            idle_timeout_secs=None,
            name=f"call-{spec.call_id}",
        )
        self._wire_events()

    async def _on_turn_latency(self, seconds: float) -> None:
        await self.recorder.on_turn_latency(seconds)
        if self.spec.on_turn_latency is not None:
            self.spec.on_turn_latency(seconds)

    async def _after_reply(self, spent_usd: float) -> None:
        if self.budget.after_reply(spent_usd) and self._end_reason is None:
            # A task: the observer that tells us must not wait for the line to be said.
            self._budget_task = asyncio.create_task(
                self._wrap_up_for_budget(), name=f"budget-{self.spec.call_id}"
            )

    async def _wrap_up_for_budget(self) -> None:
        """Say the budget line, then hang up the normal way (its audio plays out first)."""
        budget = self.budget
        self.recorder.add_event(
            "budget",
            f"cost ${budget.spent_usd:.4f} + next reply ~${budget.dearest_reply_usd:.4f} "
            f"would cross the cap ${budget.cap_usd:g}: saying the budget line",
        )
        # The line is the call's last reply: no turn the caller ends from here gets another.
        self._caller_mute.mute()
        line_done = await self._llm.say_line(budget_instructions(self.spec.profile.budget_line))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(line_done.wait(), BUDGET_LINE_WAIT_S)
        await self.end(END_REASON_BUDGET)

    async def _on_rate_limited(self, cause: str) -> None:
        """No Realtime session, or no reply, to be had (the account's rate limit, through the
        connect timeout): the bot plays the fallback line's recording itself, then hangs up the
        normal way, so the line plays out first. Never silence. A phone caller is on the
        line already; a room's caller may not have joined yet, so there the line waits
        for `start_greeting`, in place of the greeting."""
        if self._end_reason is not None:
            return  # already ending (the caller hung up, the budget line...): nothing to add
        self.recorder.add_event("rate_limit", f"{cause}; playing the fallback line")
        self._rate_limited = True
        if self._greeted:
            await self._play_fallback_and_end()

    async def _play_fallback_and_end(self) -> None:
        profile = self.spec.profile
        try:
            recording = await fallback_audio_for(profile, self.spec.audio_sample_rate)
        except ValueError as e:  # checked at start-up; a file changed since is this call's loss
            self.recorder.add_error(f"fallback_audio: {e}")
        else:
            self.recorder.add_bot_line(profile.fallback_line)
            await self._llm.play_prompt(recording.pcm, recording.sample_rate)
        await self.end(END_REASON_RATE_LIMITED)

    def _new_record(self) -> CallRecord:
        spec = self.spec
        return CallRecord(
            call_id=spec.call_id,
            transport=spec.transport_name,
            profile=spec.profile.name,
            model=spec.profile.model,
            caller_number=spec.caller.number,
            caller_name=spec.caller.name,
            called_number=spec.caller.called_number,
            started_at=utc_now_iso(),
        )

    def _wire_events(self) -> None:
        transport, worker = self._transport, self._worker

        @worker.event_handler("on_pipeline_started")
        async def on_started(_worker, _frame):
            self.started_at = time.monotonic()

        if self._client_events:

            @transport.event_handler("on_client_connected")
            async def on_connected(_transport, _client):
                await self.start_greeting()

            @transport.event_handler("on_client_disconnected")
            async def on_disconnected(_transport, _client):
                await self.end(self._disconnect_reason(), cancel=True)

        @worker.event_handler("on_pipeline_error")
        async def on_error(_worker, frame: ErrorFrame):
            self.recorder.add_error(frame.error)
            if frame.processor is self._llm:
                # The resilient service reports only what no retry can fix (bad key, no
                # access, quota, reconnects exhausted): end the call and say why, in one line.
                logger.error(
                    f"call {self.spec.call_id}: Realtime error, ending call: {frame.error}"
                )
                await self.end(f"realtime error: {frame.error}"[:200], cancel=True)

    async def start_greeting(self, caller: CallerInfo | None = None) -> None:
        """Greet once. A room learns who the caller is only when they join, so the caller
        given here replaces the spec's, in the greeting and in the record."""
        if self._greeted or self._end_reason is not None:
            return
        self._greeted = True
        if caller is not None:
            self.spec.caller = caller
            record = self.recorder.record
            record.caller_number, record.caller_name = caller.number, caller.name
            record.called_number = caller.called_number
            greeting = self.spec.profile.render_greeting(caller, self.spec.company_name)
            self._context.set_messages([greeting_message(greeting)])
        if self._rate_limited:
            await self._play_fallback_and_end()
            return
        await self._worker.queue_frames([LLMRunFrame()])

    @property
    def end_reason(self) -> str | None:
        """Why the call is ending, once something has ended it."""
        return self._end_reason

    def add_observer(self, observer: BaseObserver) -> None:
        """One more observer of this call's frames (before `run`)."""
        self._worker.add_observer(observer)

    def _disconnect_reason(self) -> str:
        violation = self._line_guard.violation if self._line_guard else None
        return f"protocol error: {violation}" if violation else "caller hung up"

    async def end(self, reason: str, *, cancel: bool = False) -> None:
        """End the call once; `cancel` drops queued audio (the line is already gone)."""
        if self._end_reason is not None:
            return
        self._end_reason = reason
        logger.info(f"call {self.spec.call_id}: ending ({reason})")
        if cancel:
            await self._worker.cancel(reason=reason)
        else:
            await self._worker.queue_frame(EndWorkerFrame(reason=reason))

    async def cancel(self, reason: str) -> None:
        """Cancel the call even if it is already ending the graceful way: the server is
        stopping, and a farewell may be waiting on a line or a session that is not coming
        back. The first reason stays the record's."""
        if self._end_reason is None:
            await self.end(reason, cancel=True)
            return
        logger.info(f"call {self.spec.call_id}: cancelling ({reason})")
        await self._worker.cancel(reason=reason)

    async def run(self) -> CallRecord:
        spec = self.spec
        realtime = "emulator" if spec.realtime.emulated else spec.realtime.url
        logger.info(
            f"call {spec.call_id}: start transport={spec.transport_name} "
            f"profile={spec.profile.name} realtime={realtime}"
        )
        runner = WorkerRunner(handle_sigint=False)
        try:
            await runner.add_workers(self._worker)
            await runner.run()
        except asyncio.CancelledError:
            self._end_reason = self._end_reason or "server shutting down"
            raise
        except Exception as e:
            logger.exception(f"call {spec.call_id}: failed: {e}")
            self.recorder.add_error(f"{type(e).__name__}: {e}")
            self._end_reason = self._end_reason or f"internal error: {type(e).__name__}"
        finally:
            if self._budget_task is not None:
                self._budget_task.cancel()
            record = self.recorder.finish(self._end_reason or "pipeline finished")
            if self._tools is not None:
                for failure in await self._tools.after_call(record):
                    self.recorder.add_error(failure)
            path = append_record(record, spec.records_dir, redact=spec.redact)
            logger.info(
                f"call {spec.call_id}: ended ({record.end_reason}) after {record.duration_s}s, "
                f"record → {path}"
            )
        return record
