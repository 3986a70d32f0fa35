r"""Every private Pipecat name the product relies on, in one list that a test checks.

Why this exists: here and there the product reaches into Pipecat 1.14 below its public API
(a leading-underscore method it overrides, an attribute it reads or writes). A 1.14.x release
that renamed one would not fail anything: an override of a renamed method is simply never
called again, a write to a renamed attribute creates a new one nobody reads, and a read
raises an AttributeError that Pipecat logs and swallows on every frame. So each such name is
listed here, and `tests/unit/test_pipecat_internals.py` checks every entry against the
installed Pipecat (the name still exists on the class, with the same kind), and checks that
our subclasses of Pipecat classes use no private Pipecat name that is missing from this list.

This module is data: it imports nothing of ours, and nothing in the product imports it.

Adding an entry (whenever the product starts to use a private Pipecat name):

1. Prefer a public API; use the private name only where Pipecat 1.14 has none, and say so in
   a comment at the place of use that points here.
2. Add a ``PipecatInternal`` to the section of the folder that uses it:
   - ``owner``: ``"module:Class"`` of the Pipecat class the product touches (the class we
     subclass, or the class of the object we reach into); the check follows its MRO, so the
     name may be defined in one of its bases.
   - ``name``: the private name, exactly as used.
   - ``kind``: what the product relies on it being (see :class:`Kind`).
   - ``used_in``: the file that uses it, relative to the repository root; the test checks
     that the file still mentions the name, so a stale entry is caught too. A name used in
     two files gets two entries.
   - ``why``: one line, the reason no public API does.
3. Run ``pytest tests/unit/test_pipecat_internals.py``.

When the product stops using a name, delete its entry (the test reports it as stale).

The test finds what a machine can (overrides and ``self._x`` in our Pipecat subclasses and
their mixins, ``obj._x`` and ``getattr(obj, "_x")`` where ``_x`` is no name of ours, handler
names in strings). A review still helps for the rest, e.g.::

    grep -rnE '\._[a-z]|"_[a-z]' bot pipelines processors runner.py | grep -v 'self\._'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Kind(Enum):
    """What the product relies on a private name being."""

    METHOD = "method"  # a plain function on the class (overridden or called)
    ASYNC_METHOD = "async method"  # a coroutine function on the class (overridden or awaited)
    CLASS_ATTRIBUTE = "class attribute"  # exists on the class itself
    INSTANCE_ATTRIBUTE = "instance attribute"  # assigned on ``self`` by the class or a base


@dataclass(frozen=True)
class PipecatInternal:
    owner: str
    name: str
    kind: Kind
    used_in: str
    why: str


_FASTAPI = "pipecat.transports.websocket.fastapi"
_TWILIO = "pipecat.serializers.twilio:TwilioFrameSerializer"
_TELNYX = "pipecat.serializers.telnyx:TelnyxFrameSerializer"

# --- bot/ and runner.py ----------------------------------------------------------------
# None: both reach Pipecat only through its public API.
_BOT: tuple[PipecatInternal, ...] = ()

# --- pipelines/ (except pipelines/realtime/) -------------------------------------------
_PIPELINES: tuple[PipecatInternal, ...] = (
    PipecatInternal(
        owner="pipecat.transports.base_output:BaseOutputTransport",
        name="_handle_frame",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/transports/line.py",
        why="the fast lane hands the model's audio to the media sender as process_frame "
        "does, without its observer call and hooks per frame",
    ),
    PipecatInternal(
        owner=f"{_FASTAPI}:FastAPIWebsocketTransport",
        name="_client",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/transports/line.py",
        why="the socket client the line's own input and output are built around; no accessor",
    ),
    PipecatInternal(
        owner=f"{_FASTAPI}:FastAPIWebsocketInputTransport",
        name="_paused",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/transports/line.py",
        why="inline caller audio honours a StopFrame's pause as Pipecat does; no public reader",
    ),
    PipecatInternal(
        owner="pipecat.transports.livekit.transport:LiveKitTransport",
        name="_client",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/transports/livekit.py",
        why="RoomTransport.room: the rtc.Room (participant kinds) lives only on the client",
    ),
    PipecatInternal(
        owner="pipecat.processors.frame_processor:FrameProcessor",
        name="_enable_direct_mode",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/context_aggregators.py",
        why="set after construction: LLMContextAggregatorPair takes no direct-mode argument",
    ),
    PipecatInternal(
        owner=_TWILIO,
        name="_hangup_attempted",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/call_control/providers.py",
        why="set after a transfer so the serializer does not hang up the transferred caller",
    ),
    PipecatInternal(
        owner=_TELNYX,
        name="_hangup_attempted",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/call_control/providers.py",
        why="set after a transfer so the serializer does not hang up the transferred caller",
    ),
)

# --- pipelines/realtime/ ----------------------------------------------------------------
# RealtimeService is the one subclass of Pipecat's Realtime service: it runs its own receive
# loop and session switches, so it overrides, calls and reads what Pipecat keeps private.
_OPENAI_REALTIME = "pipecat.services.openai.realtime.llm:OpenAIRealtimeLLMService"
_PIPELINES_REALTIME: tuple[PipecatInternal, ...] = (
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_audio_input_paused",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="the fast lane's audio input honours a pause as process_frame does; no reader",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_connect",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="overridden: Pipecat's setup() calls it; ours opens the session with retries",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_disconnect",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="overridden: stop the guard, rollover and reconnector before Pipecat closes the socket",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_ws_send",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="overridden: a failed send queues the event and reconnects instead of an error frame",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_send_user_audio",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="overridden: G.711 encoding, audio held during a gap, a dict on the hot path",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_calculate_audio_duration_ms",
        kind=Kind.METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="overridden: truncation points counted in G.711 bytes on a phone line",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_audio_delta",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="overridden: the model's G.711 comes back as the line's 8 kHz PCM",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_function_call_arguments_done",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="overridden: unparseable arguments get an error result instead of being dropped",
    ),
    PipecatInternal(
        owner="pipecat.services.llm_service:LLMService",
        name="_timeout_function_call",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="overridden: count tool timeouts (the cancel event carries no reason)",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_auth_headers",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="the headers Pipecat connects with, for the sessions we open ourselves",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_send_session_update",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="the exact session.update Pipecat would send, for a new session",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_create_response",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="retry, fallback line and re-request with Pipecat's context set-up; no public call",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_session_updated",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="called after each switch: marks the session ready and runs a deferred response",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_maybe_handle_evt_retrieve_conversation_item_error",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/resilient.py",
        why="settles retrieve futures before the error is classified",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_websocket",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="the live socket: swapped on reconnect and rollover; Pipecat's _disconnect closes it",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_receive_task",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="our receive loop, stored where Pipecat's _disconnect cancels it",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_disconnecting",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="no sends while Pipecat closes",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_api_session_ready",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="whether a fatal error can still be apologised for",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_context",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="speak or re-request only when a conversation exists",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_llm_needs_conversation_setup",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="replay the conversation only after Pipecat sent the first context",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_response_active",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="clear a stale running response; find a cut reply; the rollover's quiet check",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_response_create_owed",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="drop a response.create owed to the old session",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_pending_function_calls",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="cleared on a gap: the old session's calls cannot complete",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_open_function_calls",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="no rollover while a tool call is open",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_current_audio_response",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="quiet check, closing a cut reply, G.711 delta bookkeeping",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_current_assistant_response",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="pipelines/realtime/resilient.py",
        why="close a cut reply's LLMFullResponse bracket",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_response_created",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/event_handlers.py",
        why="dispatched by event type from our receive loop (Pipecat's own loop is not run)",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_conversation_item_added",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/event_handlers.py",
        why="dispatched by event type from our receive loop (Pipecat's own loop is not run)",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_conversation_item_done",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/event_handlers.py",
        why="dispatched by event type from our receive loop (Pipecat's own loop is not run)",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_input_audio_transcription_delta",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/event_handlers.py",
        why="dispatched by event type from our receive loop (Pipecat's own loop is not run)",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_conversation_item_retrieved",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/event_handlers.py",
        why="dispatched by event type from our receive loop (Pipecat's own loop is not run)",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_response_done",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/event_handlers.py",
        why="dispatched by event type from our receive loop (Pipecat's own loop is not run)",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_speech_started",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/event_handlers.py",
        why="dispatched by event type from our receive loop (Pipecat's own loop is not run)",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_speech_stopped",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/event_handlers.py",
        why="dispatched by event type from our receive loop (Pipecat's own loop is not run)",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_text_delta",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/event_handlers.py",
        why="dispatched by event type from our receive loop (Pipecat's own loop is not run)",
    ),
    PipecatInternal(
        owner=_OPENAI_REALTIME,
        name="_handle_evt_audio_transcript_delta",
        kind=Kind.ASYNC_METHOD,
        used_in="pipelines/realtime/event_handlers.py",
        why="dispatched by event type from our receive loop (Pipecat's own loop is not run)",
    ),
)

# --- processors/ ----------------------------------------------------------------------
_PROCESSORS: tuple[PipecatInternal, ...] = (
    PipecatInternal(
        owner="pipecat.processors.aggregators.dtmf_aggregator:DTMFAggregator",
        name="_flush_aggregation",
        kind=Kind.ASYNC_METHOD,
        used_in="processors/dtmf.py",
        why="overridden: a finished entry runs a tool or goes to the model, not a transcript",
    ),
    PipecatInternal(
        owner="pipecat.processors.aggregators.dtmf_aggregator:DTMFAggregator",
        name="_aggregation",
        kind=Kind.INSTANCE_ATTRIBUTE,
        used_in="processors/dtmf.py",
        why="the keys collected so far, read and cleared by the flush and at call end",
    ),
)

PIPECAT_INTERNALS: tuple[PipecatInternal, ...] = (
    *_BOT,
    *_PIPELINES,
    *_PIPELINES_REALTIME,
    *_PROCESSORS,
)
