"""Builds the OpenAI Realtime service for a call from its profile."""

from bot.profiles import Profile
from pipelines.realtime_resilience_config import RealtimeResilienceConfig
from pipelines.realtime_stats import RealtimeHealth
from pipelines.resilient_realtime import ResilientRealtimeLLMService

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"


def create_realtime_service(
    profile: Profile,
    *,
    api_key: str,
    company_name: str,
    base_url: str = OPENAI_REALTIME_URL,
    resilience: RealtimeResilienceConfig | None = None,
    stats: RealtimeHealth | None = None,
    fallback_instructions: str = "",
    call_id: str = "",
) -> ResilientRealtimeLLMService:
    return ResilientRealtimeLLMService(
        api_key=api_key,
        base_url=base_url,
        settings=ResilientRealtimeLLMService.Settings(
            model=profile.model,
            system_instruction=profile.render_instructions(company_name),
            session_properties=profile.session_properties(company_name=company_name),
        ),
        resilience=resilience or RealtimeResilienceConfig(),
        stats=stats if stats is not None else RealtimeHealth(),
        fallback_instructions=fallback_instructions or profile.fallback_line,
        call_tag=call_id,
    )
