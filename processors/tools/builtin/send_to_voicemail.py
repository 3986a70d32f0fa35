"""send_to_voicemail: hand the caller to a mailbox from the profile's list (Asterisk lines)."""

from pydantic import Field

from bot.config.tools import ToolSettings
from processors.tools.base import Tool, ToolArgs, ToolContext, ToolError, ToolResult, allow_listed


class VoicemailArgs(ToolArgs):
    mailbox: str = Field(
        min_length=1, max_length=40, description="Name of the mailbox, from the list."
    )


class SendToVoicemail(Tool):
    name = "send_to_voicemail"
    description = (
        "Send the caller to a mailbox to leave a message, when the person they want cannot "
        "take the call. Only the named mailboxes exist. Tell the caller first."
    )
    Args = VoicemailArgs

    @classmethod
    def describe(cls, settings: ToolSettings) -> str:
        return f"{cls.description} Mailboxes: {', '.join(sorted(settings.voicemail))}."

    @classmethod
    def check_config(cls, settings: ToolSettings, env) -> None:
        if not settings.voicemail:
            raise ValueError("send_to_voicemail needs tool_settings.voicemail (name -> mailbox)")

    async def run(self, args: VoicemailArgs, ctx: ToolContext) -> ToolResult:
        name, mailbox = allow_listed(args.mailbox, ctx.settings.voicemail, "mailbox")
        if not ctx.actions.can_voicemail:
            raise ToolError("voicemail is not available on this line; offer to take a message")
        await ctx.actions.voicemail_after_speech(name, mailbox)
        return ToolResult(
            f"The caller goes to {name}'s voicemail when you finish speaking. Tell them in one "
            "short sentence to leave a message after the tone.",
            data={"mailbox": name},
        )
