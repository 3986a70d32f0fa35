"""What an endpoint hands the telephony server once it has accepted a call: the line (its
transport, guard, call control), who is calling, and which profile answers.

Every phone endpoint — the provider media streams on `WS /ws`, Asterisk's chan_websocket on
`WS /asterisk`, the AudioSocket listener — builds one of these and gives it to
`TelephonyServer.run_line_call`, so limits, drain, metrics and the record are the same code
for all of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipecat.transports.base_transport import BaseTransport

from bot.call.processor_kit import ProcessorKit
from bot.call.tool_kit import ToolKit
from bot.config.caller_info import CallerInfo
from bot.config.profiles import Profile
from pipelines.composer import PipelineSlots
from pipelines.realtime.g711 import G711Codec
from pipelines.transports.media_stream_guard import LineGuard
from processors.tools.call_control import CallControl

if TYPE_CHECKING:
    from bot.call.call import Call


@dataclass(frozen=True)
class ProfileBundle:
    """A profile with its tools and processors, resolved once at start-up."""

    profile: Profile
    toolkit: ToolKit | None = None
    processors: ProcessorKit | None = None


@dataclass
class LineCall:
    call_id: str
    transport_name: str
    transport: BaseTransport
    guard: LineGuard
    control: CallControl | None
    caller: CallerInfo
    bundle: ProfileBundle
    # Closes the line once the call has ended (the socket may be gone already).
    close: Callable[[], Awaitable[None]]
    sample_rate: int = 8000
    g711: G711Codec = "pcmu"
    # False where the far end cancels its own echo (a browser): no echo gate.
    line_echo: bool = True
    # The line's own processors (e.g. a browser's media clock), placed by the composer.
    slots: PipelineSlots | None = None
    # Told the Call once it exists, before it runs (e.g. the dev page follows it).
    on_call: Callable[[Call], None] | None = None
