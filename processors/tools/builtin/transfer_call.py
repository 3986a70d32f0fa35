"""transfer_call: hand the caller to a destination from the profile's allow-list."""

from pydantic import Field

from processors.tools.base import (
    AllowListTool,
    ToolArgs,
    ToolContext,
    ToolError,
    ToolResult,
    allow_listed,
)


class TransferArgs(ToolArgs):
    destination: str = Field(
        min_length=1, max_length=40, description="Name of the destination, from the list."
    )


class TransferCall(AllowListTool):
    name = "transfer_call"
    description = (
        "Transfer the caller to a person or team. Only the named destinations exist; never "
        "pass a phone number. Tell the caller where you are transferring them first."
    )
    Args = TransferArgs
    setting = "transfer_destinations"
    names_are = "Destinations"
    target_is = "number"

    async def run(self, args: TransferArgs, ctx: ToolContext) -> ToolResult:
        name, target = allow_listed(args.destination, self.allow_list(ctx.settings), "destination")
        if not ctx.actions.can_transfer:
            raise ToolError("transfers are not available on this line; offer to take a message")
        await ctx.actions.transfer_after_speech(name, target)
        return ToolResult(
            f"Transfer to {name} is ready. Tell the caller in one short sentence that you are "
            f"transferring them to {name} now; the transfer starts when you finish speaking.",
            data={"destination": name},
        )
