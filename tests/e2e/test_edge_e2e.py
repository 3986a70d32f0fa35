"""The secured edge end to end: the real runner.py with provider secrets in its environment,
the Realtime emulator, and the phone caller answering through the signed webhook.

A stream presents its token and signature → the call proceeds; without them → refused.
Afterwards, the whole run's log and call records are grepped for every secret it used.
"""

import asyncio
import contextlib
import json
import uuid

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from sim.bot_process import bot_env, run_bot
from sim.phone import PhoneCaller, Say, Silence
from sim.phone.webhook import WebhookRefused, WebhookSigner, answer_call
from sim.realtime import EmulatorConfig, RealtimeEmulator

pytestmark = pytest.mark.e2e

SECRETS = {
    "OPENAI_API_KEY": "sk-proj-e2eSecretKey000111222333",
    "TWILIO_AUTH_TOKEN": "twilioAuthTokenSecret44455566",
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "STREAM_TOKEN_SECRET": "streamTokenSecret777888999000",
    "LIVEKIT_API_SECRET": "livekitApiSecret1234567890abc",
    "PLIVO_AUTH_TOKEN": "plivoAuthTokenSecret9876543210",
    "TELNYX_API_KEY": "KEYtelnyxApiSecret0123456789",
    "EXOTEL_API_TOKEN": "exotelApiTokenSecret55544433",
}
# TWILIO_ACCOUNT_SID is an identifier, not a secret; it is only set so the serializer's
# hang-up REST call (to an unreachable base URL) fails and logs an error.
NOT_SECRET = {"TWILIO_ACCOUNT_SID"}
ORDER = "sim/audio/caller_order_status.wav"


@pytest.fixture
async def secured_bot(tmp_path):
    async with RealtimeEmulator(EmulatorConfig()) as emulator:
        env = bot_env(
            tmp_path,
            **SECRETS,
            TWILIO_API_BASE_URL="http://127.0.0.1:9",
            LOG_LEVEL="TRACE",
        )
        args = ("--transport", "twilio", "--realtime-url", emulator.url)
        async with run_bot(tmp_path, *args, env=env) as bot:
            yield bot


async def raw_stream(url: str, headers: dict[str, str], start_params: dict, call_sid: str):
    """A Twilio handshake, then wait for the server to close; returns (code, reason)."""
    sid = uuid.uuid4().hex
    async with connect(url, additional_headers=headers) as ws:
        start = {
            "accountSid": "AC1",
            "streamSid": f"MZ{sid}",
            "callSid": call_sid,
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": start_params,
        }
        try:
            # A refused upgrade may be closed before the handshake is even sent.
            await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0"}))
            await ws.send(json.dumps({"event": "start", "streamSid": f"MZ{sid}", "start": start}))
            async with asyncio.timeout(10):
                async for _ in ws:  # drained, or queued bot audio would hold back the close
                    pass
        except ConnectionClosed:
            pass
        return ws.close_code, ws.close_reason


async def test_signed_webhook_and_token_let_a_call_through_and_nothing_else(secured_bot):
    bot = secured_bot
    signer = WebhookSigner(twilio_auth_token=SECRETS["TWILIO_AUTH_TOKEN"])
    with pytest.raises(WebhookRefused) as refused:
        await answer_call(bot.http_url, "twilio")
    assert refused.value.status == 403

    invite = await answer_call(bot.http_url, "twilio", signer, caller_name="Ada")
    token = invite.parameters["stream_token"]
    good = PhoneCaller(
        **invite.caller_kwargs(), provider="twilio", steps=[Say(ORDER), Silence(2.0)]
    )
    result = await good.run()
    assert result.connected and result.greeting_audio_s > 1.0
    assert result.turns[0].latency_s is not None, "the signed call got no reply"

    # The same token again (a replay), a stream with no token, a token for another call, and
    # an upgrade without Twilio's signature: each refused with a policy close.
    no_token = {k: v for k, v in invite.parameters.items() if k != "stream_token"}
    other = await answer_call(bot.http_url, "twilio", signer)
    attempts = {
        "replay": (invite.headers, invite.parameters, invite.call_sid),
        "no token": (invite.headers, no_token, invite.call_sid),
        "other call's token": (other.headers, invite.parameters, other.call_sid),
        "unsigned upgrade": ({}, other.parameters, other.call_sid),
    }
    for name, (headers, params, call_sid) in attempts.items():
        code, reason = await raw_stream(bot.ws_url, headers, params, call_sid)
        assert code == 1008, f"{name}: closed with {code} {reason}"
    # A bad line on an authorised stream: the junk event carries a secret, which the guard
    # would echo into the log and the record's end_reason.
    leaky = await answer_call(bot.http_url, "twilio", signer)
    async with connect(leaky.url, additional_headers=leaky.headers) as ws:
        caller = PhoneCaller(**leaky.caller_kwargs(), provider="twilio")
        from sim.phone.protocol import make_protocol

        for message in make_protocol("twilio", caller.identity).handshake():
            await ws.send(json.dumps(message))
        await asyncio.sleep(0.5)
        await ws.send(json.dumps({"event": SECRETS["OPENAI_API_KEY"]}))
        with contextlib.suppress(ConnectionClosed):
            async with asyncio.timeout(10):
                async for _ in ws:  # drained, or queued bot audio would hold back the close
                    pass

    records = await bot.wait_for_records(2)
    log = bot.log()
    assert "refusing a media stream (1008): stream token already used" in log
    assert "refusing a media stream (1008): no stream token" in log
    assert "refusing a media stream (1008): stream token was not issued for this call" in log
    assert "refusing a media stream (1008): missing X-Twilio-Signature" in log
    assert "webhook refused (403): missing X-Twilio-Signature" in log
    reasons = sorted(r["end_reason"] for r in records)
    assert reasons[0] == "caller hung up"
    assert reasons[1].startswith("protocol error: unknown twilio event '[redacted]")

    # Secrets: none in the log (TRACE level: Pipecat logs raw handshake messages) or records.
    records_text = "\n".join(p.read_text() for p in bot.records_dir.glob("*.jsonl"))
    minted = [invite, other, leaky]
    for name, value in SECRETS.items():
        if name not in NOT_SECRET:
            assert value not in log, f"{name} leaked into the log"
            assert value not in records_text, f"{name} leaked into a record"
    for each in minted:
        assert each.parameters["stream_token"] not in log + records_text
    # The redactor had something to do: the handshake (with its token) is logged at TRACE.
    assert "[redacted]" in log
    assert token not in log
