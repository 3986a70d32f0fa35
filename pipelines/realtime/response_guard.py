"""Replies and errors of a Realtime session: what happens when the model fails to answer.

- error events are classified (realtime_errors.py): fatal ones end the call with a
  one-line cause (after a spoken apology when the session still works), transient ones
  are counted and retried, rejected ones logged as warnings, benign ones at debug;
- a turn whose reply brings no audio in time is re-requested once, then the profile's
  fallback line is said (FirstAudioWatch); a failed response is retried the same way;
- a tool that runs past its timeout is counted and logged (Pipecat cancels it).
"""

import asyncio
import contextlib

from loguru import logger
from pipecat.services.openai.realtime import events

from pipelines.realtime.errors import ErrorKind, classify_error
from pipelines.realtime.first_audio import Attempt

APOLOGY_WAIT_S = 8.0


class ResponseGuardMixin:
    """Part of ResilientRealtimeLLMService; uses its state and Pipecat's."""

    async def _on_error_event(self, evt) -> None:
        if await self._maybe_handle_evt_retrieve_conversation_item_error(evt):
            return
        err = evt.error
        verdict = classify_error(err.code, err.type, err.message)
        if verdict.kind is ErrorKind.BENIGN:
            logger.debug(f"{self._tag}Realtime: {verdict.cause}")
        elif verdict.kind is ErrorKind.REJECTED:
            self.stats.rejected_events += 1
            logger.warning(f"{self._tag}Realtime refused a request: {verdict.cause}")
        elif verdict.kind is ErrorKind.TRANSIENT:
            # The server closes the socket after most of these; the reconnect follows.
            self.stats.transient_errors += 1
            logger.warning(f"{self._tag}Realtime transient error: {verdict.cause}")
        else:
            await self._fail(verdict.cause, apologize=self._api_session_ready)

    async def _fail(self, cause: str, *, apologize: bool) -> None:
        """End the call for a reason no retry can fix, with one line saying which."""
        if self._failed or self._closing:
            return
        logger.error(f"{self._tag}Realtime fatal error, ending the call: {cause}")
        self.stats.fatal_error = cause
        if apologize and self._websocket is not None and self._context is not None:
            await self._say_fallback()
            self.create_task(self._push_fatal_after_apology(cause))
            return
        self._failed = True
        await self.push_error(error_msg=cause)

    async def _push_fatal_after_apology(self, cause: str) -> None:
        self._bot_finished.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._bot_finished.wait(), APOLOGY_WAIT_S)
        self._failed = True
        await self.push_error(error_msg=cause)

    # ------------------------------------------------------------ responses
    async def _on_response_done(self, evt) -> None:
        self._server_response_open = False
        response = evt.response
        if response.status == "failed":
            error = (response.status_details or {}).get("error") or {}
            verdict = classify_error(error.get("code"), error.get("type"), error.get("message", ""))
            response.status = "incomplete"  # keeps Pipecat from ending the call on it
            if verdict.kind is ErrorKind.FATAL:
                await self._fail(verdict.cause, apologize=False)
                return
            nxt = Attempt.RETRY if self._watch.attempt is Attempt.ORIGINAL else Attempt.FALLBACK
            logger.warning(f"{self._tag}Realtime response failed ({verdict.cause}); {nxt.name}")
            self.stats.responses_retried += nxt is Attempt.RETRY
            self._watch.stop()
            self._watch.escalate(nxt)
            self._after_cancel = nxt
        self._follow_up_due, self._after_cancel = self._after_cancel, None
        if self._follow_up_due is None:
            self._watch.heard()  # answered, cancelled by a barge-in, or a function call

    async def _follow_up(self, attempt: Attempt) -> None:
        if attempt is Attempt.RETRY:
            self._response_active = False
            await self._create_response()
        else:
            await self._say_fallback()

    async def _on_first_audio_timeout(self, attempt: Attempt) -> None:
        self._count_timeout("first_audio")
        nxt = Attempt.RETRY if attempt is Attempt.ORIGINAL else Attempt.FALLBACK
        logger.warning(
            f"{self._tag}no bot audio {self.resilience.timeouts.first_audio_s:g}s into the "
            + (
                "turn; re-requesting the reply once"
                if nxt is Attempt.RETRY
                else "retry; saying the fallback line"
            )
        )
        self._watch.escalate(nxt)
        if nxt is Attempt.RETRY:
            self.stats.responses_retried += 1
        if self._server_response_open:
            self._after_cancel = nxt
            await self.send_client_event(events.ResponseCancelEvent())
        else:
            self._response_active = False
            await self._follow_up(nxt)

    async def _say_fallback(self) -> None:
        self.stats.fallback_lines += 1
        self._watch.escalate(Attempt.FALLBACK)
        self._response_active = False
        self._next_response_instructions = self._fallback_instructions
        await self._create_response()

    async def _timeout_function_call(self, runner_item):
        self._count_timeout("tool")
        logger.warning(
            f"{self._tag}tool {runner_item.function_name} timed out after "
            f"{self.resilience.timeouts.tool_s:g}s; the model is told it was cancelled"
        )
        await super()._timeout_function_call(runner_item)
