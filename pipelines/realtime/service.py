"""Builds the OpenAI Realtime service for a call from its profile."""

from collections.abc import Awaitable, Callable

from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema

from bot.config.profiles import Profile
from bot.config.realtime import RealtimeResilienceConfig
from pipelines.realtime.g711 import G711Codec, g711_audio_format
from pipelines.realtime.resilient import RealtimeService
from pipelines.realtime.stats import RealtimeHealth

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"


def create_realtime_service(
    profile: Profile,
    *,
    api_key: str,
    company_name: str,
    base_url: str = OPENAI_REALTIME_URL,
    tools: ToolsSchema | None = None,
    resilience: RealtimeResilienceConfig | None = None,
    stats: RealtimeHealth | None = None,
    fallback_instructions: str = "",
    call_id: str = "",
    g711: G711Codec | None = None,
    on_rate_limited: Callable[[str], Awaitable[None]] | None = None,
) -> RealtimeService:
    """`g711`: the line's codec; the session then takes and gives G.711 at 8 kHz."""
    audio_format = g711_audio_format(g711) if g711 else None
    session_properties = profile.session_properties(
        company_name=company_name, audio_format=audio_format
    )
    if tools is not None:
        # The Realtime adapter flattens these into session.update `tools`.
        session_properties.tools = tools
    return RealtimeService(
        api_key=api_key,
        base_url=base_url,
        settings=RealtimeService.Settings(
            model=profile.model,
            system_instruction=profile.render_instructions(company_name),
            session_properties=session_properties,
        ),
        resilience=resilience or RealtimeResilienceConfig(),
        stats=stats if stats is not None else RealtimeHealth(),
        fallback_instructions=fallback_instructions or profile.fallback_line,
        call_tag=call_id,
        g711=g711,
        on_rate_limited=on_rate_limited,
    )
