"""Builds the OpenAI Realtime service for a call from its profile."""

from pipecat.adapters.llm.schemas.tools_schema import ToolsSchema
from pipecat.services.openai.realtime.llm import OpenAIRealtimeLLMService

from bot.profiles import Profile
from pipelines.realtime_tool_args import ToolArgumentsGuardMixin

OPENAI_REALTIME_URL = "wss://api.openai.com/v1/realtime"


class RealtimeService(ToolArgumentsGuardMixin, OpenAIRealtimeLLMService):
    """Pipecat's Realtime service; unparseable tool arguments get an error result."""


def create_realtime_service(
    profile: Profile,
    *,
    api_key: str,
    company_name: str,
    base_url: str = OPENAI_REALTIME_URL,
    tools: ToolsSchema | None = None,
) -> OpenAIRealtimeLLMService:
    session_properties = profile.session_properties(company_name=company_name)
    if tools is not None:
        # The Realtime adapter flattens these into session.update `tools`.
        session_properties.tools = tools
    return RealtimeService(
        api_key=api_key,
        base_url=base_url,
        settings=OpenAIRealtimeLLMService.Settings(
            model=profile.model,
            system_instruction=profile.render_instructions(company_name),
            session_properties=session_properties,
        ),
    )
