"""send_call_summary: deliver the model's summary with the call record after the call."""

from pydantic import Field

from processors.tools.base import AfterCallRequest, AfterCallTool, ToolArgs, ToolContext, ToolResult


class SummaryArgs(ToolArgs):
    summary: str = Field(
        min_length=1, max_length=4000, description="A few sentences: who called, what for, outcome."
    )


class SendCallSummary(AfterCallTool):
    name = "send_call_summary"
    description = (
        "Send a summary of this call to the team after the call ends. Call it once, near the "
        "end of the call, with a short factual summary."
    )
    Args = SummaryArgs

    async def run(self, args: SummaryArgs, ctx: ToolContext) -> ToolResult:
        ctx.after_call.append(AfterCallRequest(kind="call_summary", summary=args.summary))
        return ToolResult("The summary will be sent when the call ends.", run_llm=True)
