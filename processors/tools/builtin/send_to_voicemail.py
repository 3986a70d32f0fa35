"""send_to_voicemail: hand the caller to a mailbox from the profile's list (Asterisk lines)."""

from pydantic import Field

from processors.tools.base import (
    AllowListTool,
    ToolArgs,
    ToolContext,
    ToolError,
    ToolResult,
    allow_listed,
)


class VoicemailArgs(ToolArgs):
    mailbox: str = Field(
        min_length=1, max_length=40, description="Name of the mailbox, from the list."
    )


class SendToVoicemail(AllowListTool):
    name = "send_to_voicemail"
    description = (
        "Send the caller to a mailbox to leave a message, when the person they want cannot "
        "take the call. Only the named mailboxes exist. Tell the caller first."
    )
    Args = VoicemailArgs
    setting = "voicemail"
    names_are = "Mailboxes"
    target_is = "mailbox"

    async def run(self, args: VoicemailArgs, ctx: ToolContext) -> ToolResult:
        name, mailbox = allow_listed(args.mailbox, self.allow_list(ctx.settings), "mailbox")
        if not ctx.actions.can_voicemail:
            raise ToolError("voicemail is not available on this line; offer to take a message")
        await ctx.actions.voicemail_after_speech(name, mailbox)
        return ToolResult(
            f"The caller goes to {name}'s voicemail when you finish speaking. Tell them in one "
            "short sentence to leave a message after the tone.",
            data={"mailbox": name},
        )
