"""Builds the OpenAI Realtime service for a call from its profile."""

from pipecat.services.openai.realtime.llm import OpenAIRealtimeLLMService

from bot.profiles import Profile

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"


def create_realtime_service(
    profile: Profile, *, api_key: str, company_name: str, base_url: str = OPENAI_REALTIME_URL
) -> OpenAIRealtimeLLMService:
    return OpenAIRealtimeLLMService(
        api_key=api_key,
        base_url=base_url,
        settings=OpenAIRealtimeLLMService.Settings(
            model=profile.model,
            system_instruction=profile.render_instructions(company_name),
            session_properties=profile.session_properties(company_name=company_name),
        ),
    )
