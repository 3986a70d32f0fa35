"""Pipecat's OpenAI Realtime service, made to survive a phone call.

Pipecat 1.14's ``OpenAIRealtimeLLMService`` connects once, treats a dropped socket or almost
any error event as the end, and ignores the session cap. This subclass keeps its frame
handling and event handlers and replaces only the connection's life cycle:

- every session is opened by ``open_session`` (connect, session.created, session.update,
  session.updated, each with a timeout);
- a lost socket or a transient error starts a *gap*: client events are queued, caller
  audio is held (bounded), and a new session is opened with jittered, bounded retries;
  the switch re-sends every conversation item (``ConversationLog``), then the audio, then
  the queue, and re-requests a reply the drop cut off;
- rollover (realtime_rollover.py) does the same switch ahead of ``expires_at``, at a quiet
  moment, with the next session already open;
- error events, failed responses and slow first audio are handled in
  realtime_response_guard.py (fatal → end the call with one line; transient → retry;
  no audio in time → one retry, then the fallback line).
"""

import asyncio
import base64
import json
import random
import time

from loguru import logger
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    Frame,
    InputAudioRawFrame,
    LLMFullResponseEndFrame,
    TTSStartedFrame,
    TTSStoppedFrame,
)
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.openai.realtime import events
from pipecat.services.openai.realtime.llm import CurrentAudioResponse, OpenAIRealtimeLLMService
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from bot.config.realtime import RealtimeResilienceConfig
from pipelines.realtime.audio_backlog import AudioBacklog
from pipelines.realtime.conversation_log import ConversationTracker
from pipelines.realtime.errors import RealtimeFailure
from pipelines.realtime.event_handlers import PIPECAT_HANDLERS
from pipelines.realtime.g711 import G711Codec, SessionAudio
from pipelines.realtime.response_guard import ResponseGuard
from pipelines.realtime.rollover import Rollover
from pipelines.realtime.session_opener import ReadySession, open_session
from pipelines.realtime.stats import RealtimeHealth, ReconnectEntry, count_timeout
from pipelines.realtime.tool_args import guard_tool_arguments


class ResilientRealtimeLLMService(OpenAIRealtimeLLMService):
    def __init__(
        self,
        *,
        resilience: RealtimeResilienceConfig,
        stats: RealtimeHealth,
        fallback_instructions: str,
        call_tag: str = "",
        g711: G711Codec | None = None,
        **kwargs,
    ):
        super().__init__(function_call_timeout_secs=resilience.timeouts.tool_s, **kwargs)
        self.resilience = resilience
        self.stats = stats
        self._tag = f"call {call_tag}: " if call_tag else ""
        self._audio = SessionAudio(g711)
        self._backlog = AudioBacklog(resilience.reconnect.audio_buffer_s, self._audio.bytes_per_s)
        self._conversation = ConversationTracker()
        self._queued: list[dict] | None = None  # not None during a gap
        self._captured: list[events.ClientEvent] | None = None
        self._reconnect_task: asyncio.Task | None = None
        self._closing = False
        self._guard = ResponseGuard(
            timeouts=resilience.timeouts,
            fallback_instructions=fallback_instructions,
            stats=stats,
            tag=self._tag,
            respond=self._respond_now,
            send=self.send_client_event,
            end_call=self._end_call,
            can_speak=self._can_speak,
            create_task=self.create_task,
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

    # ------------------------------------------------------------ what the parts ask of it
    async def _respond_now(self) -> None:
        # Asked only once the reply Pipecat may still think is running is over or cancelled.
        self._response_active = False
        await self._create_response()

    async def _end_call(self, cause: str) -> None:
        await self.push_error(error_msg=cause)

    def _can_speak(self) -> bool:
        return self._websocket is not None and self._context is not None

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
    async def _connect(self):
        if self._websocket or self._closing:
            return
        ready, _attempts = await self._open_with_retries("connect")
        if ready is not None:
            await self._switch_to(ready)

    async def _disconnect(self):
        self._closing = True
        self._guard.close()
        await self._rollover.stop()
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
        await super()._disconnect()

    async def _open_with_retries(self, why: str) -> tuple[ReadySession | None, int]:
        policy = self.resilience.reconnect
        for attempt in range(1, policy.max_attempts + 1):
            try:
                return await self._open_session(), attempt
            except RealtimeFailure as failure:
                if failure.fatal or self._closing:
                    await self._guard.fail(failure.verdict.cause, apologize=False)
                    return None, attempt
                logger.warning(
                    f"{self._tag}Realtime {why}: attempt {attempt}/{policy.max_attempts} "
                    f"failed: {failure.verdict.cause}"
                )
                if attempt == policy.max_attempts:
                    await self._guard.fail(
                        f"Realtime API unreachable after {attempt} attempts: "
                        f"{failure.verdict.cause}",
                        apologize=False,
                    )
                    return None, attempt
                # Full jitter: calls dropped together do not all come back at once.
                ceiling = min(policy.backoff_max_s, policy.backoff_base_s * 2 ** (attempt - 1))
                await asyncio.sleep(random.uniform(0, ceiling))
        return None, policy.max_attempts

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
        audio = self._backlog.take()
        for start in range(0, len(audio), 48000):  # 0.5 s per append event
            chunk = base64.b64encode(audio[start : start + 48000]).decode()
            await self._ws_send({"type": "input_audio_buffer.append", "audio": chunk})
        self._backlog.sent(audio)
        queued, self._queued = self._queued or [], None
        asks_response = any(e.get("type") == "response.create" for e in queued)
        for event in queued:
            await self._ws_send(event)
        if old is not None and old is not ready.ws:
            self.create_task(old.close())
        await self._handle_evt_session_updated(events.parse_server_event(ready.updated_event))
        if not self._closing:
            self._rollover.schedule()
        return replayed, self._backlog.seconds(audio), asks_response

    async def _roll_over_to(self, standby: ReadySession) -> int:
        self._begin_gap()
        replayed, _audio_s, _asks = await self._switch_to(standby)
        return replayed

    def _on_connection_lost(self, ws: ClientConnection, cause: str) -> None:
        if ws is not self._websocket or self._closing or self._guard.failed:
            return
        if self._reconnect_task is None or self._reconnect_task.done():
            self._reconnect_task = self.create_task(self._reconnect(cause))

    async def _reconnect(self, cause: str) -> None:
        started = time.monotonic()
        cut = self._begin_gap()
        old, self._websocket = self._websocket, None
        if old is not None:
            self.create_task(old.close())
        await self._rollover.stop()
        await self._close_cut_reply()
        logger.warning(f"{self._tag}Realtime connection lost ({cause}); reconnecting")
        ready, attempts = await self._open_with_retries("reconnect")
        if ready is None:
            return
        replayed, audio_s, asks_response = await self._switch_to(ready)
        rerequest = cut and not asks_response and self._context is not None
        if rerequest:
            await self._create_response()
        seconds = time.monotonic() - started
        self.stats.reconnects.append(
            ReconnectEntry(
                cause=cause,
                seconds=round(seconds, 3),
                attempts=attempts,
                items_replayed=replayed,
                audio_replayed_s=round(audio_s, 2),
                reply_rerequested=rerequest,
            )
        )
        logger.info(
            f"{self._tag}Realtime reconnected in {seconds:.2f}s (attempt {attempts}): "
            f"replayed {replayed} items and {audio_s:.1f}s of caller audio"
            + ("; re-requested the cut reply" if rerequest else "")
        )

    # ------------------------------------------------------------ sending
    async def send_client_event(self, event: events.ClientEvent):
        if self._captured is not None:
            self._captured.append(event)
            return
        if isinstance(event, events.ResponseCreateEvent):
            self._guard.instruct(event)
        if self._queued is not None:
            # A truncation names audio of the old session; the new one only has the text.
            if not isinstance(event, events.ConversationItemTruncateEvent):
                self._queued.append(event.model_dump(exclude_none=True))
            return
        message = event.model_dump(exclude_none=True)
        if isinstance(event, events.ConversationItemCreateEvent):
            self._conversation.sent(event.item.id, message)
        await self._ws_send(message)

    async def _ws_send(self, realtime_message):
        ws = self._websocket
        if self._disconnecting or ws is None:
            return
        try:
            await ws.send(json.dumps(realtime_message))
        except Exception as e:
            # Pipecat ends the call on a failed send; here the event waits for the next session.
            if self._queued is not None:
                self._queued.append(realtime_message)
            elif not self._closing:
                self._queued = [realtime_message]
                self._on_connection_lost(ws, f"send failed: {type(e).__name__}")

    async def _send_user_audio(self, frame: InputAudioRawFrame):
        audio = await self._audio.to_session(frame)
        if not audio:
            return
        if self._queued is not None or self._websocket is None:
            self._backlog.hold(audio)
            return
        self._backlog.sent(audio)
        payload = base64.b64encode(audio).decode("ascii")
        if self._captured is not None:
            await self.send_client_event(events.InputAudioBufferAppendEvent(audio=payload))
            return
        # The hot path, 50 times a second per call: the event as a plain dict, without a
        # pydantic model and its uuid event_id (both showed in the load profile).
        await self._ws_send({"type": "input_audio_buffer.append", "audio": payload})

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

    async def _handle_evt_function_call_arguments_done(self, evt):
        await super()._handle_evt_function_call_arguments_done(guard_tool_arguments(evt))

    async def _timeout_function_call(self, runner_item):
        self._guard.tool_timed_out(runner_item.function_name)
        await super()._timeout_function_call(runner_item)

    def _calculate_audio_duration_ms(self, total_bytes: int, *args, **kwargs) -> int:
        if self._audio.g711 is None:
            return super()._calculate_audio_duration_ms(total_bytes, *args, **kwargs)
        return self._audio.duration_ms(total_bytes)

    async def _handle_evt_audio_delta(self, evt):
        if self._audio.g711 is None:
            await super()._handle_evt_audio_delta(evt)
            return
        # Pipecat's handler, except that the delta is G.711 at 8 kHz.
        await self.stop_ttfb_metrics()
        current = self._current_audio_response
        if not current:
            self._current_audio_response = CurrentAudioResponse(
                item_id=evt.item_id,
                content_index=evt.content_index,
                start_time_ms=int(time.time() * 1000),
                response_id=evt.response_id,
            )
            await self.push_frame(TTSStartedFrame())
        elif current.item_id != evt.item_id:
            # Several output items in one response play as one turn (as Pipecat does).
            current.item_id, current.content_index = evt.item_id, evt.content_index
            current.response_id = evt.response_id
            current.start_time_ms = int(time.time() * 1000)
            current.total_size = 0
        g711 = base64.b64decode(evt.delta)
        self._current_audio_response.total_size += len(g711)
        await self.push_frame(self._audio.to_frame(g711))

    def _transcription_enabled(self) -> bool:
        audio = self._settings.session_properties.audio
        return bool(audio and audio.input and audio.input.transcription)

    async def _observe(self, evt) -> bool:
        """Tell the parts what the server did; False keeps the event from Pipecat's handler."""
        etype = evt.type
        if etype == "input_audio_buffer.committed":
            self._backlog.committed()
            if self._transcription_enabled():
                self._conversation.transcript_due(evt.item_id)
        elif etype == "conversation.item.truncated":
            # The server cut the transcript to what was heard; fetch it to restate it exactly.
            await self.send_client_event(events.ConversationItemRetrieveEvent(item_id=evt.item_id))
        elif etype == "input_audio_buffer.speech_started":
            self._rollover.caller_started()
        elif etype == "input_audio_buffer.speech_stopped":
            self._rollover.caller_stopped()
            self._guard.turn_ended()
        elif etype == "response.created":
            self._guard.response_created()
        elif etype == "response.output_audio.delta":
            self._guard.audio_heard()
        elif etype == "response.done":
            await self._guard.response_done(evt)
        # A restated item's echo is not something new the model said.
        return self._conversation.observe(evt)

    # ------------------------------------------------------------ frames
    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, BotStartedSpeakingFrame):
            self._rollover.bot_started()
        elif isinstance(frame, BotStoppedSpeakingFrame):
            self._rollover.bot_stopped()
            self._guard.bot_finished()
