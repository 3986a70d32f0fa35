"""request_transcript: deliver the call's transcript after the call."""

from processors.tools.base import AfterCallRequest, AfterCallTool, ToolArgs, ToolContext, ToolResult


class RequestTranscript(AfterCallTool):
    name = "request_transcript"
    description = (
        "Ask for the transcript of this call to be sent to the team after the call ends "
        "(for example when the caller wants a follow-up in writing)."
    )
    Args = ToolArgs

    async def run(self, args: ToolArgs, ctx: ToolContext) -> ToolResult:
        if not any(r.kind == "transcript" for r in ctx.after_call):
            ctx.after_call.append(AfterCallRequest(kind="transcript"))
        return ToolResult("The transcript will be sent when the call ends.")
