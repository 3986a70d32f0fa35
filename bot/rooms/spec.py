"""The CallSpec of a bot in a room (LiveKit, Daily): who calls is known only when they join."""

import uuid

from bot.call.call import CallSpec, RealtimeEndpoint
from bot.call.pricing import PriceTable
from bot.call.processor_kit import ProcessorKit
from bot.call.tool_kit import ToolKit
from bot.config.caller_info import CallerInfo
from bot.config.profiles import Profile
from bot.config.settings import Settings


def room_call_spec(
    *,
    transport_name: str,
    call_id_prefix: str,
    profile: Profile,
    settings: Settings,
    realtime: RealtimeEndpoint,
    sample_rate: int,
    prices: PriceTable | None = None,
    toolkit: ToolKit | None = None,
    processors: ProcessorKit | None = None,
) -> CallSpec:
    return CallSpec(
        call_id=f"{call_id_prefix}-{uuid.uuid4().hex[:12]}",
        transport_name=transport_name,
        caller=CallerInfo(),
        profile=profile,
        company_name=settings.company_name,
        realtime=realtime,
        records_dir=settings.records_dir,
        resilience=settings.realtime_resilience(),
        line_echo=False,
        prices=prices,
        audio_sample_rate=sample_rate,
        toolkit=toolkit,
        processors=processors,
    )
