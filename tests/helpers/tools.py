"""Shared pieces of the tool end-to-end tests: a profile file and the bot's environment."""

from pathlib import Path

import yaml

from sim.bot_process import BotProcess, bot_env
from sim.phone import CallResult, PhoneCaller, Step
from sim.phone.webhook import WebhookSigner, answer_call

ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "twilio-test-token"


def write_profile(tmp_path: Path, tools: list[str], **tool_settings) -> str:
    profile = {
        "name": "tools_test",
        "instructions": "You are a receptionist for {company_name}.",
        "greeting": "Hello {caller_name}, thanks for calling {company_name}.",
        "tools": tools,
        "tool_settings": tool_settings,
    }
    path = tmp_path / "tools_test.yaml"
    path.write_text(yaml.safe_dump(profile))
    return str(path)


def twilio_env(tmp_path: Path, api_url: str, **extra: str) -> dict[str, str]:
    return bot_env(
        tmp_path,
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        TWILIO_API_BASE_URL=api_url,
        **extra,
    )


def function_outputs(session) -> list[dict]:
    """The function_call_output items the bot sent, decoded."""
    import json

    return [
        json.loads(item["output"])
        for item in session.items
        if item.get("type") == "function_call_output"
    ]


async def place_call(bot: BotProcess, *steps: Step) -> CallResult:
    """A Twilio call as Twilio places it: the signed webhook first (TWILIO_AUTH_TOKEN turns
    signature and stream-token checks on), then the media stream its answer names."""
    invite = await answer_call(bot.http_url, "twilio", WebhookSigner(twilio_auth_token=AUTH_TOKEN))
    caller = PhoneCaller(
        provider="twilio", steps=list(steps), caller_number="+15551230000", **invite.caller_kwargs()
    )
    return await caller.run()
