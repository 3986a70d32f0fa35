"""transfer_call: hand the caller to a destination from the profile's allow-list."""

from pydantic import Field

from bot.config.tools import ToolSettings
from processors.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolResult, allow_listed


class TransferArgs(ToolArgs):
    destination: str = Field(
        min_length=1, max_length=40, description="Name of the destination, from the list."
    )


class TransferCall(Tool):
    name = "transfer_call"
    description = (
        "Transfer the caller to a person or team. Only the named destinations exist; never "
        "pass a phone number. Tell the caller where you are transferring them first."
    )
    Args = TransferArgs

    @classmethod
    def describe(cls, settings: ToolSettings) -> str:
        names = ", ".join(sorted(settings.transfer_destinations))
        return f"{cls.description} Destinations: {names}."

    @classmethod
    def check_config(cls, settings: ToolSettings, env) -> None:
        if not settings.transfer_destinations:
            raise ValueError(
                "transfer_call needs tool_settings.transfer_destinations (name -> number)"
            )

    async def run(self, args: TransferArgs, ctx: ToolContext) -> ToolResult:
        destinations = ctx.settings.transfer_destinations
        name, target = allow_listed(args.destination, destinations, "destination")
        if not ctx.actions.can_transfer:
            raise ToolError("transfers are not available on this line; offer to take a message")
        await ctx.actions.transfer_after_speech(name, target)
        return ToolResult(
            f"Transfer to {name} is ready. Tell the caller in one short sentence that you are "
            f"transferring them to {name} now; the transfer starts when you finish speaking.",
            data={"destination": name},
        )
