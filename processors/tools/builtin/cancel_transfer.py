"""cancel_transfer: call off a transfer the bot is still announcing."""

from processors.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolResult


class CancelTransfer(Tool):
    name = "cancel_transfer"
    description = (
        "Cancel a transfer you started, if the caller changes their mind before it happens."
    )
    Args = ToolArgs

    async def run(self, args: ToolArgs, ctx: ToolContext) -> ToolResult:
        if not await ctx.actions.cancel_transfer():
            raise ToolError("there is no pending transfer to cancel")
        return ToolResult("The transfer is cancelled; the caller stays with you.")
