"""Replies and errors of a Realtime session: what happens when the model fails to answer.

- error events are classified (errors.py): fatal ones end the call with a one-line cause
  (after a spoken apology when the session still works), transient ones are counted and
  retried, rejected ones logged as warnings, benign ones at debug;
- a turn whose reply brings no audio in time is re-requested once, then the profile's
  fallback line is said (FirstAudioWatch); a failed response is retried the same way;
- a reply refused by the account's rate limit has the rate-limit plan instead
  (ReplyRateLimit): the model's fallback line would be refused too;
- a tool that runs past its timeout is counted and logged (Pipecat cancels it).
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from loguru import logger
from pipecat.services.openai.realtime import events

from bot.config.realtime import RealtimeTimeouts
from pipelines.realtime.errors import ErrorKind, Verdict, classify_error
from pipelines.realtime.first_audio import Attempt, FirstAudioWatch
from pipelines.realtime.reply_rate_limit import ReplyRateLimit
from pipelines.realtime.stats import RealtimeHealth, count_timeout

APOLOGY_WAIT_S = 8.0


class ResponseGuard:
    """Watches each reply of one call and decides what to do when it does not come.

    Calls back into the service only through the callables it is given: ``respond`` asks
    for a reply even though Pipecat may still think one is running (the guard knows it is
    not), ``send`` sends a client event, ``end_call`` ends the call with a cause, and
    ``can_speak`` says whether a session and a context are there to say an apology.
    """

    def __init__(
        self,
        *,
        timeouts: RealtimeTimeouts,
        fallback_instructions: str,
        stats: RealtimeHealth,
        tag: str,
        respond: Callable[[], Awaitable[None]],
        send: Callable[[events.ClientEvent], Awaitable[None]],
        end_call: Callable[[str], Awaitable[None]],
        can_speak: Callable[[], bool],
        create_task: Callable[[Coroutine[Any, Any, None]], asyncio.Task],
        rate_limit: ReplyRateLimit,
    ) -> None:
        self._timeouts = timeouts
        self._rate_limit = rate_limit
        self._fallback_instructions = fallback_instructions
        self._stats = stats
        self._tag = tag
        self._respond = respond
        self._send = send
        self._end_call = end_call
        self._can_speak = can_speak
        self._create_task = create_task
        self._watch = FirstAudioWatch(
            timeouts.first_audio_s, self._on_first_audio_timeout, create_task
        )
        self._server_response_open = False  # between response.created and response.done
        # The event_id of a response.create the server has not yet answered with a response.
        self._requested: str | None = None
        # The instructions on our last response.create, and on the response running (None:
        # a plain reply, or one the server started): a refused line is asked for again.
        self._requested_instructions: str | None = None
        self._running_instructions: str | None = None
        self._after_cancel: Attempt | None = None  # what the cancelled response gives way to
        self._follow_up_due: Attempt | None = None  # run once Pipecat has seen response.done
        self._next_response_instructions: str | None = None
        # A scripted line (say_line): set when its response.create went out, then done.
        self._line_done: asyncio.Event | None = None
        self._line_sent = False
        self._bot_finished = asyncio.Event()
        self._failed = False
        self._closed = False

    @property
    def failed(self) -> bool:
        """The call is being ended for a fatal error; nothing more should reach Pipecat."""
        return self._failed

    @property
    def reply_owed(self) -> bool:
        """A reply is running on the server, or due and not yet heard."""
        return self._server_response_open or self._watch.waiting or self._rate_limit.waiting

    def close(self) -> None:
        """The call is ending: no more timers, and no failure to report."""
        self._closed = True
        self._watch.stop()
        self._rate_limit.cancel()

    def drop_reply(self) -> None:
        """The session is gone; whatever it was answering is the next session's business."""
        self._watch.stop()
        self._rate_limit.cancel()
        self._server_response_open = False
        self._requested = None

    # ------------------------------------------------------------ server events
    async def observe(self, evt: events.ServerEvent) -> None:
        """Follow one server event (an error event goes to ``on_error``)."""
        etype = evt.type
        if etype == "input_audio_buffer.speech_stopped":
            self._watch.start()  # the caller's turn is over: a reply is owed
        elif etype == "response.created":
            self._server_response_open = True
            ours = self._requested is not None
            self._running_instructions = self._requested_instructions if ours else None
            self._requested = None
            self._rate_limit.cancel()  # a reply is running: no second one
            self._watch.start()
        elif etype == "response.output_audio.delta":
            self._watch.heard()
            self._rate_limit.answered()
        elif etype == "response.done":
            await self._response_done(evt)

    def bot_finished(self) -> None:
        self._bot_finished.set()

    def requesting(self, event: events.ResponseCreateEvent) -> None:
        """A response.create is going out: note it, and put the fallback line's
        instructions on the one that says it."""
        self._requested = event.event_id
        self._requested_instructions = self._next_response_instructions
        if not self._next_response_instructions:
            return
        event.response = event.response or events.ResponseProperties()
        event.response.instructions = self._next_response_instructions
        self._next_response_instructions = None
        self._line_sent = self._line_done is not None

    async def on_error(self, err: events.RealtimeError, *, session_ready: bool) -> None:
        verdict = classify_error(err.code, err.type, err.message)
        if verdict.rate_limited and self._refuses_request(err.event_id):
            self._requested = None
            await self._refused(verdict, self._requested_instructions)
        elif verdict.kind is ErrorKind.BENIGN:
            logger.debug(f"{self._tag}Realtime: {verdict.cause}")
        elif verdict.kind is ErrorKind.REJECTED:
            self._stats.rejected_events += 1
            logger.warning(f"{self._tag}Realtime refused a request: {verdict.cause}")
        elif verdict.kind is ErrorKind.TRANSIENT:
            # The server closes the socket after most of these; the reconnect follows.
            self._stats.transient_errors += 1
            logger.warning(f"{self._tag}Realtime transient error: {verdict.cause}")
        else:
            await self.fail(verdict.cause, apologize=session_ready)

    def _refuses_request(self, event_id: str | None) -> bool:
        """Whether an error answers our pending response.create (no response will come)."""
        if self._requested is None or self._server_response_open:
            return False
        return event_id is None or event_id == self._requested

    def stand_down(self) -> None:
        """The call is ending without the model (the rate limit): no timers, and nothing
        more from the server reaches Pipecat, so nothing cuts the recorded line short."""
        self.close()
        self._failed = True

    async def fail(self, cause: str, *, apologize: bool) -> None:
        """End the call for a reason no retry can fix, with one line saying which."""
        if self._failed or self._closed:
            return
        logger.error(f"{self._tag}Realtime fatal error, ending the call: {cause}")
        self._stats.fatal_error = cause
        if apologize and self._can_speak():
            await self._say_fallback()
            self._create_task(self._end_after_apology(cause))
            return
        self._failed = True
        await self._end_call(cause)

    async def _end_after_apology(self, cause: str) -> None:
        self._bot_finished.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._bot_finished.wait(), APOLOGY_WAIT_S)
        self._failed = True
        await self._end_call(cause)

    # ------------------------------------------------------------ responses
    async def _response_done(self, evt: events.ResponseDone) -> None:
        # Before Pipecat's handler: a failed response is retried here, not fatal there.
        self._server_response_open = False
        response = evt.response
        verdict = None
        if response.status == "failed":
            error = (response.status_details or {}).get("error") or {}
            verdict = classify_error(error.get("code"), error.get("type"), error.get("message", ""))
            response.status = "incomplete"  # keeps Pipecat from ending the call on it
        if verdict is not None and verdict.rate_limited:
            self._watch.stop()
            self._after_cancel = self._follow_up_due = None
            await self._refused(verdict, self._running_instructions)
            return
        if self._line_sent and self._line_done is not None:
            self._line_done.set()
            self._line_done, self._line_sent = None, False
        if verdict is not None:
            if verdict.kind is ErrorKind.FATAL:
                await self.fail(verdict.cause, apologize=False)
                return
            nxt = Attempt.RETRY if self._watch.attempt is Attempt.ORIGINAL else Attempt.FALLBACK
            logger.warning(f"{self._tag}Realtime response failed ({verdict.cause}); {nxt.name}")
            self._stats.responses_retried += nxt is Attempt.RETRY
            self._watch.stop()
            self._watch.escalate(nxt)
            self._after_cancel = nxt
        if response.status == "completed":
            self._rate_limit.answered()
        self._follow_up_due, self._after_cancel = self._after_cancel, None
        if self._follow_up_due is None:
            self._watch.heard()  # answered, cancelled by a barge-in, or a function call

    async def _refused(self, verdict: Verdict, instructions: str | None) -> None:
        """A reply the rate limit refused: the plan asks again, for the same line if it was
        one (the fallback or budget line), and a line is not done until it is said."""
        if instructions:
            self._next_response_instructions = instructions
            self._line_sent = False
        await self._rate_limit.refused(verdict)

    async def after_response_done(self) -> None:
        """After Pipecat's handler, which is what marks the old response finished."""
        if self._follow_up_due is None:
            return
        follow_up, self._follow_up_due = self._follow_up_due, None
        await self._follow_up(follow_up)

    async def _follow_up(self, attempt: Attempt) -> None:
        if attempt is Attempt.RETRY:
            await self._respond()
        else:
            await self._say_fallback()

    async def _on_first_audio_timeout(self, attempt: Attempt) -> None:
        count_timeout(self._stats, "first_audio", self._tag)
        nxt = Attempt.RETRY if attempt is Attempt.ORIGINAL else Attempt.FALLBACK
        logger.warning(
            f"{self._tag}no bot audio {self._timeouts.first_audio_s:g}s into the "
            + (
                "turn; re-requesting the reply once"
                if nxt is Attempt.RETRY
                else "retry; saying the fallback line"
            )
        )
        self._watch.escalate(nxt)
        if nxt is Attempt.RETRY:
            self._stats.responses_retried += 1
        if self._server_response_open:
            self._after_cancel = nxt
            await self._send(events.ResponseCancelEvent())
        else:
            await self._follow_up(nxt)

    async def say_line(self, instructions: str) -> asyncio.Event:
        """Ask for a reply with these instructions (a line the bot must say, e.g. the
        budget line); the event is set once that reply is done, all its audio sent on."""
        done = asyncio.Event()
        self._line_done, self._line_sent = done, False
        self._next_response_instructions = instructions
        await self._respond()
        return done

    async def _say_fallback(self) -> None:
        self._stats.fallback_lines += 1
        self._watch.escalate(Attempt.FALLBACK)
        self._next_response_instructions = self._fallback_instructions
        await self._respond()

    def tool_timed_out(self, function_name: str) -> None:
        count_timeout(self._stats, "tool", self._tag)
        logger.warning(
            f"{self._tag}tool {function_name} timed out after "
            f"{self._timeouts.tool_s:g}s; the model is told it was cancelled"
        )
