"""Provider call control against the local fake REST API (in process, on loopback)."""

import pytest

from pipelines.call_control.providers import (
    TelephonyCallControl,
    TelnyxCallControl,
    TwilioCallControl,
)
from processors.tools.call_control import CallControlError
from sim.provider_api import FakeProviderApi


class FakeSerializer:
    _hangup_attempted = False


async def test_twilio_transfer_withholds_the_serializer_hang_up():
    serializer = FakeSerializer()
    async with FakeProviderApi() as api:
        control = TwilioCallControl(
            account_sid="AC1",
            auth_token="t",
            call_sid="CA9",
            base_url=api.url,
            serializer=serializer,
        )
        await control.transfer("+15550100123")
    [request] = api.twilio_updates("CA9")
    assert "<Number>+15550100123</Number>" in request.form["Twiml"]
    assert serializer._hangup_attempted is True


async def test_telnyx_transfer_posts_the_destination():
    async with FakeProviderApi() as api:
        control = TelnyxCallControl(api_key="KEY1", call_control_id="v3:abc", base_url=api.url)
        await control.transfer("sip:support@pbx.example.com")
    [request] = api.requests
    assert request.path == "/v2/calls/v3:abc/actions/transfer"
    assert request.json == {"to": "sip:support@pbx.example.com"}
    assert request.authorization == "Bearer KEY1"


async def test_provider_refusal_and_unreachable_api_are_one_line_errors():
    serializer = FakeSerializer()
    control = TwilioCallControl(
        account_sid="AC1",
        auth_token="t",
        call_sid="CA9",
        base_url="http://127.0.0.1:9",
        serializer=serializer,
    )
    with pytest.raises(CallControlError, match="twilio API unreachable"):
        await control.transfer("+15550100123")
    assert serializer._hangup_attempted is False, "a failed transfer keeps the hang-up"
    with pytest.raises(CallControlError, match="not available on plivo"):
        await TelephonyCallControl("plivo").transfer("+15550100123")
