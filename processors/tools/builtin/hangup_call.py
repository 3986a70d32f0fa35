"""hangup_call: end the call once the bot's farewell has played."""

from pydantic import Field

from processors.tools.base import Tool, ToolArgs, ToolContext, ToolResult


class HangupArgs(ToolArgs):
    reason: str = Field(default="", max_length=200, description="Why the call ends, for the log.")


class HangupCall(Tool):
    name = "hangup_call"
    description = (
        "End the phone call. Call it when the conversation is over, after or while saying a "
        "brief goodbye; the line closes as soon as your goodbye has been heard."
    )
    Args = HangupArgs

    async def run(self, args: HangupArgs, ctx: ToolContext) -> ToolResult:
        speaking = ctx.actions.bot_speaking
        await ctx.actions.hang_up_after_speech()
        if speaking:
            # The farewell is playing right now: no new response, it would only delay the end.
            return ToolResult("The call ends after your current sentence.", run_llm=False)
        return ToolResult(
            "The call ends when you finish speaking. Say a short goodbye now, nothing else."
        )
