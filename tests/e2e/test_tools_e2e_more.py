"""Tools end to end, continued: malformed calls, the farewell guard, after-call delivery."""

import asyncio
import json
from email import message_from_bytes

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from bot.call.delivery import SIGNATURE_HEADER, verify_signature
from sim.bot_process import free_port, run_bot
from sim.phone import Say, Silence
from sim.provider_api import FakeProviderApi
from sim.realtime import EmulatorConfig, RealtimeEmulator, ScriptedFunctionCall
from tests.helpers.tools import function_outputs, place_call, twilio_env, write_profile

pytestmark = pytest.mark.e2e

ORDER = "sim/audio/caller_order_status.wav"
THANKS = "sim/audio/caller_thanks.wav"
GOODBYE = "sim/audio/caller_goodbye.wav"
WEBHOOK_SECRET = "whsec-test-123"


@pytest.fixture
async def provider_api():
    async with FakeProviderApi() as api:
        yield api


async def test_malformed_tool_calls_get_error_results_and_the_call_continues(
    tmp_path, provider_api
):
    profile = write_profile(
        tmp_path, ["hangup_call", "transfer_call"], transfer_destinations={"sales": "+15550100123"}
    )
    calls = [
        ScriptedFunctionCall(
            after_user_turn=1, name="transfer_call", arguments='{"destination": "sa'
        ),
        ScriptedFunctionCall(after_user_turn=2, name="launch_rockets", arguments="{}"),
        ScriptedFunctionCall(
            after_user_turn=3, name="transfer_call", arguments='{"destination": 5}'
        ),
    ]
    async with RealtimeEmulator(EmulatorConfig(function_calls=calls)) as emu:
        env = twilio_env(tmp_path, provider_api.url)
        args = ("--transport", "twilio", "--realtime-url", emu.url, "--profile", profile)
        async with run_bot(tmp_path, *args, env=env) as bot:
            steps = [
                Say(ORDER),
                Silence(3.0),
                Say(THANKS),
                Silence(3.0),
                Say(GOODBYE),
                Silence(3.0),
            ]
            result = await place_call(bot, *steps)
            [record] = await bot.wait_for_records(1)
        [session] = emu.sessions

    bad_json, unknown_tool, wrong_type = function_outputs(session)
    assert bad_json["ok"] is False and "not valid JSON" in bad_json["error"]
    assert "launch_rockets" in unknown_tool and "not currently available" in unknown_tool
    assert wrong_type["ok"] is False and "destination" in wrong_type["error"]
    # After every error result the model answered, and the caller heard it.
    assert len(result.turns) == 3
    assert all(turn.bot_audio_s > 1.0 for turn in result.turns), result.turns
    assert result.closed_by == "caller" and record["end_reason"] == "caller hung up"
    assert provider_api.requests == []
    assert not [e for e in session.server_events if e["type"] == "error"]


async def test_farewell_guard_ends_a_call_the_model_forgot_to_hang_up(tmp_path, provider_api):
    guard = {"after_s": 1.0}
    profile = write_profile(tmp_path, ["hangup_call"], farewell_guard=guard)
    config = EmulatorConfig(replies=["bot_reply_3.wav"])  # "Thank you for calling. Goodbye!"
    async with RealtimeEmulator(config) as emu:
        env = twilio_env(tmp_path, provider_api.url)
        args = ("--transport", "twilio", "--realtime-url", emu.url, "--profile", profile)
        async with run_bot(tmp_path, *args, env=env) as bot:
            result = await place_call(bot, Say(GOODBYE), Silence(15.0))
            [record] = await bot.wait_for_records(1)

    assert result.closed_by == "server"
    assert record["end_reason"] == "guarded hang-up"
    assert record["tool_calls"] == []
    assert result.turns[0].bot_audio_s > 1.0, "the goodbye plays out before the guard acts"
    [hang_up] = provider_api.twilio_updates(result.call_sid)
    assert hang_up.form == {"Status": "completed"}


class SmtpInbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


async def test_summary_and_transcript_are_delivered_signed_and_by_email(tmp_path, provider_api):
    posts: list[tuple[bytes, str | None]] = []

    async def receive(request: web.Request) -> web.Response:
        posts.append((await request.read(), request.headers.get(SIGNATURE_HEADER)))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hooks/calls", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    webhook_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", webhook_port).start()
    inbox = SmtpInbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        profile = write_profile(tmp_path, ["send_call_summary", "request_transcript"])
        calls = [
            ScriptedFunctionCall(
                after_user_turn=1,
                name="send_call_summary",
                arguments='{"summary": "Ada asked where her order is; it ships Friday."}',
            ),
            ScriptedFunctionCall(after_user_turn=2, name="request_transcript"),
        ]
        env = twilio_env(
            tmp_path,
            provider_api.url,
            SUMMARY_WEBHOOK_URL=f"http://127.0.0.1:{webhook_port}/hooks/calls",
            SUMMARY_WEBHOOK_SECRET=WEBHOOK_SECRET,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp.port),
            SMTP_STARTTLS="false",
            SUMMARY_EMAIL_FROM="bot@example.com",
            SUMMARY_EMAIL_TO="team@example.com, lead@example.com",
        )
        async with RealtimeEmulator(EmulatorConfig(function_calls=calls)) as emu:
            args = ("--transport", "twilio", "--realtime-url", emu.url, "--profile", profile)
            async with run_bot(tmp_path, *args, env=env) as bot:
                steps = [Say(ORDER), Silence(3.0), Say(THANKS), Silence(3.0)]
                await place_call(bot, *steps)
                [record] = await bot.wait_for_records(1)
        for _ in range(50):  # the record is written after delivery; SMTP runs in a thread
            if len(inbox.messages) == 2:
                break
            await asyncio.sleep(0.1)
    finally:
        smtp.stop()
        await runner.cleanup()

    assert record["errors"] == []
    assert len(posts) == 2
    for body, signature in posts:
        assert verify_signature(body, signature, WEBHOOK_SECRET)
        assert not verify_signature(body, signature, "some-other-secret")
    summary, transcript = (json.loads(body) for body, _ in posts)
    assert summary["kind"] == "call_summary" and summary["call_id"] == record["call_id"]
    assert summary["summary"] == "Ada asked where her order is; it ships Friday."
    assert summary["end_reason"] == "caller hung up"
    assert transcript["kind"] == "transcript"
    said = [t["text"] for t in transcript["transcript"]]
    assert "Hi, I would like to check the status of my order." in said
    assert said == [t["text"] for t in record["transcript"]]

    assert len(inbox.messages) == 2
    for mail_from, rcpt_tos, _ in inbox.messages:
        assert mail_from == "bot@example.com"
        assert rcpt_tos == ["team@example.com", "lead@example.com"]
    bodies = [message_from_bytes(content).get_payload() for _, _, content in inbox.messages]
    assert "it ships Friday" in bodies[0]
    assert "caller: Hi, I would like to check the status of my order." in bodies[1]
