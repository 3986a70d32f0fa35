"""Pipecat's OpenAI Realtime service, made to survive a phone call.

Pipecat 1.14's ``OpenAIRealtimeLLMService`` connects once, treats a dropped socket or almost
any error event as the end, and ignores the session cap. ``RealtimeService`` keeps its frame
handling and event handlers and replaces the connection's life cycle: a lost socket or a
transient error starts a *gap* (client events queued, caller audio held, bounded), a new
session is opened with jittered, bounded retries, and the switch re-sends every
conversation item, then the audio, then the queue, and re-requests a reply the drop cut off.

The parts are held, not inherited, each with its own state (docs/resilience.md):
``Reconnector``, ``Rollover``, ``ResponseGuard``, ``ConversationTracker``, ``SessionAudio``
(G.711), ``guard_tool_arguments``. Pipecat calls its private methods on ``self``, so their
overrides are here, handing the work to the part that owns it.
"""

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    InputAudioRawFrame,
    LLMFullResponseEndFrame,
    StartFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.llm_service import FunctionCallRunnerItem
from pipecat.services.openai.realtime import events
from pipecat.services.openai.realtime.llm import OpenAIRealtimeLLMService
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from bot.config.realtime import RealtimeResilienceConfig
from pipelines.realtime.caller_audio import CallerAudioSender
from pipelines.realtime.conversation_log import ConversationTracker
from pipelines.realtime.event_handlers import PIPECAT_HANDLERS
from pipelines.realtime.g711 import G711Codec, SessionAudio, follow_reply
from pipelines.realtime.lane_audio import ServiceAudioLane
from pipelines.realtime.reconnect import Reconnector
from pipelines.realtime.reply_rate_limit import ReplyRateLimit
from pipelines.realtime.response_guard import ResponseGuard
from pipelines.realtime.rollover import Rollover
from pipelines.realtime.session_opener import ReadySession, open_session, open_with_retries
from pipelines.realtime.stats import RealtimeHealth, count_timeout, track_rate_limits
from pipelines.realtime.tool_args import guard_tool_arguments


class RealtimeService(OpenAIRealtimeLLMService):
    """Pipecat's Realtime service made resilient; unparseable tool arguments get an error
    result instead of silence; G.711 straight to the model on phone lines (``g711``)."""

    def __init__(
        self,
        *,
        resilience: RealtimeResilienceConfig,
        stats: RealtimeHealth,
        fallback_instructions: str,
        call_tag: str = "",
        g711: G711Codec | None = None,
        on_rate_limited: Callable[[str], Awaitable[None]] | None = None,
        **kwargs,
    ) -> None:
        """``on_rate_limited(cause)``: the rate limit kept the call's first session away
        through the connect timeout (called once the pipeline has started), or refused a
        reply through as long (reply_rate_limit.py); the call plays its own prompt
        (``play_prompt``) and ends. Without it, that ends the call as a Realtime error."""
        super().__init__(function_call_timeout_secs=resilience.timeouts.tool_s, **kwargs)
        self._on_rate_limited = on_rate_limited
        self._rate_limited_cause: str | None = None
        self.resilience = resilience
        self.stats = stats
        self._tag = f"call {call_tag}: " if call_tag else ""
        self._audio = SessionAudio(g711)
        self._caller_audio = CallerAudioSender(
            self._audio,
            resilience.reconnect.audio_buffer_s,
            send=self._send_audio_event,
            live=lambda: self._queued is None and self._websocket is not None,
        )
        self._conversation = ConversationTracker()
        self._queued: list[dict] | None = None  # not None during a gap
        self._captured: list[events.ClientEvent] | None = None
        self._closing = False
        self._guard = ResponseGuard(
            timeouts=resilience.timeouts,
            fallback_instructions=fallback_instructions,
            stats=stats,
            tag=self._tag,
            respond=self._respond_now,
            send=self.send_client_event,
            end_call=lambda cause: self.push_error(error_msg=cause),
            can_speak=lambda: self._websocket is not None and self._context is not None,
            create_task=self.create_task,
            rate_limit=ReplyRateLimit(
                resilience.reconnect,
                resilience.timeouts.connect_s,
                tag=self._tag,
                retry=self._respond_now,
                give_up=self._replies_rate_limited,
                create_task=self.create_task,
            ),
        )
        self._rollover = Rollover(
            resilience.rollover,
            stats=stats,
            tag=self._tag,
            open_session=self._open_session,
            settled=self._settled,
            switch_to=self._roll_over_to,
            create_task=self.create_task,
        )
        self._reconnector = Reconnector(
            stats=stats,
            tag=self._tag,
            drop_session=self._drop_session,
            open_session=self._open_with_retries,
            switch_to=self._switch_to,
            rerequest=self._rerequest,
            create_task=self.create_task,
        )
        # The audio fast lane's ends (pipelines/audio_lane.py). `_audio_input_paused` is
        # Pipecat's (set_audio_input_paused has no reader); pinned in
        # pipelines/pipecat_internals.py.
        self.audio_lane = ServiceAudioLane(
            push_on=super().push_frame,
            append=self._caller_audio.append,
            input_paused=lambda: self._audio_input_paused,
        )

    async def say_line(self, instructions: str) -> asyncio.Event:
        """Say a scripted line as the next reply; the event is set when that reply is done."""
        return await self._guard.say_line(instructions)

    # ------------------------------------------------------------ what the parts ask of it
    async def _respond_now(self) -> None:
        # Asked only once the reply Pipecat may still think is running is over or cancelled.
        self._response_active = False
        await self._create_response()

    async def _replies_rate_limited(self, cause: str) -> None:
        if self._on_rate_limited is None:
            await self._guard.fail(cause, apologize=False)
            return
        self._guard.stand_down()
        self.create_task(self._on_rate_limited(cause))

    def _settled(self) -> bool:
        """Nothing queued, running, playing or unconfirmed: the service's half of quiet."""
        return (
            self._queued is None
            and self._websocket is not None
            and not self._response_active
            and not self._guard.reply_owed
            and self._current_audio_response is None
            and not self._open_function_calls
            and self._conversation.settled
        )

    # ------------------------------------------------------------ life cycle
    async def _connect(self) -> None:
        if self._websocket or self._closing:
            return
        ready, _attempts = await self._open_with_retries("connect")
        if ready is not None:
            await self._switch_to(ready)

    async def _disconnect(self) -> None:
        self._closing = True
        self._guard.close()
        await self._rollover.stop()
        await self._reconnector.stop()
        await super()._disconnect()

    async def _open_with_retries(self, why: str) -> tuple[ReadySession | None, int]:
        # Only a call's first session has the rate-limit plan: mid-call, a conversation
        # is held and the ordinary reconnect retries apply.
        first = why == "connect" and self.stats.sessions == 0
        at_start = first and self._on_rate_limited is not None
        ready, attempts, gave_up = await open_with_retries(
            self._open_session,
            self.resilience.reconnect,
            why=why,
            tag=self._tag,
            closing=lambda: self._closing,
            rate_limit_window_s=self.resilience.timeouts.connect_s if at_start else None,
        )
        if gave_up is not None and gave_up.rate_limited and at_start:
            logger.warning(f"{self._tag}Realtime {gave_up.cause}")
            self._rate_limited_cause = gave_up.cause
        elif gave_up is not None:
            await self._guard.fail(gave_up.cause, apologize=False)
        return ready, attempts

    async def _open_session(self) -> ReadySession:
        return await open_session(
            self.base_url,
            await self._auth_headers(),
            await self._session_update_payload(),
            self.resilience.timeouts,
            lambda which: count_timeout(self.stats, which, self._tag),
        )

    async def _session_update_payload(self) -> dict:
        """The exact session.update Pipecat would send, captured instead of sent."""
        self._captured = []
        try:
            await self._send_session_update()
        finally:
            captured, self._captured = self._captured, None
        return captured[-1].model_dump(exclude_none=True)

    # ------------------------------------------------------------ the switch
    def _begin_gap(self) -> bool:
        """Stop sending to the current socket; True if a reply was cut off."""
        if self._queued is None:
            self._queued = []
        # A reply is owed if one was running, asked for, or due after the caller's turn.
        cut = self._response_active or self._guard.reply_owed
        # Items sent but not yet confirmed by the old session go again, in their order.
        self._queued[:0] = self._conversation.take_unacked()
        self._guard.drop_reply()
        self._response_active = False
        self._response_create_owed = False
        self._pending_function_calls.clear()
        return cut

    async def _close_cut_reply(self) -> None:
        """Tell the pipeline the cut reply is over, as a response.done would have."""
        if self._current_audio_response is not None:
            await self.push_frame(TTSStoppedFrame())
        if self._current_assistant_response is not None or self._current_audio_response:
            await self.push_frame(LLMFullResponseEndFrame())
        self._current_assistant_response = None
        self._current_audio_response = None

    async def _switch_to(self, ready: ReadySession) -> tuple[int, float, bool]:
        """Make ``ready`` the live session and re-seed it. Returns (items replayed, seconds
        of caller audio sent, whether a queued event already asks for a response)."""
        old, self._websocket = self._websocket, ready.ws
        self._rollover.session_opened(ready.expires_at)
        self.stats.sessions += 1
        # Pipecat's _disconnect cancels this task, so it must be the attribute it reads.
        self._receive_task = self.create_task(self._receive_loop(ready.ws))
        replayed = 0
        if not self._llm_needs_conversation_setup:
            for item in self._conversation.replay():
                await self._ws_send({"type": "conversation.item.create", "item": item})
                replayed += 1
        audio_s = await self._caller_audio.replay()
        queued, self._queued = self._queued or [], None
        asks_response = any(e.get("type") == "response.create" for e in queued)
        for event in queued:
            await self._ws_send(event)
        if old is not None and old is not ready.ws:
            self.create_task(old.close())
        await self._handle_evt_session_updated(events.parse_server_event(ready.updated_event))
        if not self._closing:
            self._rollover.schedule()
        return replayed, audio_s, asks_response

    async def _roll_over_to(self, standby: ReadySession) -> int:
        self._begin_gap()
        replayed, _audio_s, _asks = await self._switch_to(standby)
        return replayed

    def _on_connection_lost(self, ws: ClientConnection, cause: str) -> None:
        if ws is not self._websocket or self._closing or self._guard.failed:
            return
        self._reconnector.start(cause)

    async def _drop_session(self) -> bool:
        """Let go of the lost session; True if a reply was cut off."""
        cut = self._begin_gap()
        old, self._websocket = self._websocket, None
        if old is not None:
            self.create_task(old.close())
        await self._rollover.stop()
        await self._close_cut_reply()
        return cut

    async def _rerequest(self) -> bool:
        if self._context is None:
            return False
        await self._create_response()
        return True

    # ------------------------------------------------------------ sending
    async def send_client_event(self, event: events.ClientEvent) -> None:
        if self._captured is not None:
            self._captured.append(event)
            return
        if isinstance(event, events.ResponseCreateEvent):
            self._guard.requesting(event)
        if self._queued is not None:
            # A truncation names audio of the old session; the new one only has the text.
            if not isinstance(event, events.ConversationItemTruncateEvent):
                self._queued.append(event.model_dump(exclude_none=True))
            return
        message = event.model_dump(exclude_none=True)
        if isinstance(event, events.ConversationItemCreateEvent):
            self._conversation.sent(event.item.id, message)
        await self._ws_send(message)

    async def _ws_send(self, realtime_message: dict, text: str | None = None) -> None:
        """Send one event (``text``: it already as JSON); held for the next session if the
        socket fails."""
        ws = self._websocket
        if self._disconnecting or ws is None:
            return
        try:
            await ws.send(text if text is not None else json.dumps(realtime_message))
        except Exception as e:
            # Pipecat ends the call on a failed send; here the event waits for the next session.
            if self._queued is not None:
                self._queued.append(realtime_message)
            elif not self._closing:
                self._queued = [realtime_message]
                self._on_connection_lost(ws, f"send failed: {type(e).__name__}")

    async def _send_user_audio(self, frame: InputAudioRawFrame) -> None:
        await self._caller_audio.append(frame.audio, frame.sample_rate)

    async def _send_audio_event(self, message: dict, text: str | None) -> None:
        if self._captured is not None:
            await self.send_client_event(events.InputAudioBufferAppendEvent(**message))
            return
        await self._ws_send(message, text)

    # ------------------------------------------------------------ receiving
    async def _receive_loop(self, ws: ClientConnection) -> None:
        try:
            async for message in ws:
                if ws is not self._websocket or self._guard.failed:
                    return
                try:
                    await self._on_message(message)
                except Exception as e:
                    logger.exception(f"{self._tag}Realtime event handling failed: {e}")
        except ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else 1006
            self._on_connection_lost(ws, f"socket closed, code {code}")
            return
        self._on_connection_lost(ws, f"server closed the session, code {ws.close_code}")

    async def _on_message(self, message: str) -> None:
        evt = events.parse_server_event(message)
        if evt is None:
            return
        if evt.type == "error":
            if not await self._maybe_handle_evt_retrieve_conversation_item_error(evt):
                await self._guard.on_error(evt.error, session_ready=self._api_session_ready)
            return
        if not await self._observe(evt):
            return
        handler = PIPECAT_HANDLERS.get(evt.type)
        if handler is not None:
            await getattr(self, handler)(evt)
        if evt.type == "response.done":
            await self._guard.after_response_done()

    def _transcription_enabled(self) -> bool:
        audio = self.settings.session_properties.audio
        return bool(audio and audio.input and audio.input.transcription)

    async def _observe(self, evt: events.ServerEvent) -> bool:
        """Hand the event to every part; False keeps it from Pipecat's handler."""
        if evt.type == "input_audio_buffer.committed":
            self._caller_audio.backlog.committed()
            if self._transcription_enabled():
                self._conversation.transcript_due(evt.item_id)
        elif evt.type == "rate_limits.updated":
            track_rate_limits(self.stats, evt.rate_limits)
        elif evt.type == "conversation.item.truncated":
            # The server cut the transcript to what was heard; fetch it to restate it exactly.
            await self.send_client_event(events.ConversationItemRetrieveEvent(item_id=evt.item_id))
        self._rollover.observe(evt)
        await self._guard.observe(evt)
        # A restated item's echo is not something new the model said.
        return self._conversation.observe(evt)

    # ------------------------------------------------------------ Pipecat's handlers
    async def _handle_evt_function_call_arguments_done(
        self, evt: events.ResponseFunctionCallArgumentsDone
    ) -> None:
        await super()._handle_evt_function_call_arguments_done(guard_tool_arguments(evt))

    async def _timeout_function_call(self, runner_item: FunctionCallRunnerItem) -> None:
        self._guard.tool_timed_out(runner_item.function_name)
        await super()._timeout_function_call(runner_item)

    def _calculate_audio_duration_ms(self, total_bytes: int, *args, **kwargs) -> int:
        if self._audio.g711 is None:
            return super()._calculate_audio_duration_ms(total_bytes, *args, **kwargs)
        return self._audio.duration_ms(total_bytes)

    async def _handle_evt_audio_delta(self, evt: events.ResponseAudioDelta) -> None:
        if self._audio.g711 is None:
            await super()._handle_evt_audio_delta(evt)
            return
        # Pipecat's handler, except that the delta is G.711 at 8 kHz.
        await self.stop_ttfb_metrics()
        started = follow_reply(self._current_audio_response, evt)
        if started is not None:
            self._current_audio_response = started
            await self.push_frame(TTSStartedFrame())
        g711 = base64.b64decode(evt.delta)
        self._current_audio_response.total_size += len(g711)
        await self.push_frame(self._audio.to_frame(g711))

    # ------------------------------------------------------------ the audio fast lane
    async def push_frame(self, frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM):
        await self.audio_lane.push_frame(frame, direction)

    async def play_prompt(self, audio: bytes, sample_rate: int) -> None:
        """Play recorded 16-bit mono audio as the bot's speech (``ServiceAudioLane``)."""
        await self.audio_lane.play_prompt(audio, sample_rate)

    # ------------------------------------------------------------ frames
    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if isinstance(frame, StartFrame):
            # The StartFrame has gone on downstream: the output can play a prompt now.
            cause, self._rate_limited_cause = self._rate_limited_cause, None
            if cause is not None and self._on_rate_limited is not None:
                await self._on_rate_limited(cause)
        elif isinstance(frame, BotStartedSpeakingFrame):
            self._rollover.bot_started()
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._rollover.bot_stopped()
            self._guard.bot_finished()
