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

# --- pipelines/realtime/ — PENDING ------------------------------------------------------
# That folder is being refactored; its list is handed over separately. Until then this
# section stays empty on purpose, and the completeness tests skip pipelines/realtime/.
_PIPELINES_REALTIME: tuple[PipecatInternal, ...] = ()

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
