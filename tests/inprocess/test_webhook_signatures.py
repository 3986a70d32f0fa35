"""Webhook authentication per provider, in process: unsigned or wrongly signed → 403,
signed as the provider signs (twilio's own RequestValidator, ed25519, Plivo V3) → the XML
answer with a stream token; behind a proxy only when the proxy is configured."""

import base64
import time
from urllib.parse import parse_qs, urlencode, urlsplit
from xml.etree import ElementTree as ET

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from twilio.request_validator import RequestValidator

from bot.call.call import RealtimeEndpoint
from bot.config.errors import ConfigError
from bot.config.profiles import load_profile
from bot.config.settings import Settings
from bot.security.signatures import plivo_v3_signature
from bot.telephony.server import TelephonyConfig, TelephonyServer

TWILIO_TOKEN = "twilio-auth-token-for-tests-0001"
PLIVO_TOKEN = "plivo-auth-token-for-tests-0001"
FORM = {"CallSid": "CA123", "From": "+15551230000", "To": "+15559870000", "CallerName": "Ada"}


def make_app(provider: str, **settings):
    server = TelephonyServer(
        TelephonyConfig(
            provider=provider,
            profile=load_profile("default"),
            settings=Settings(_env_file=None, **settings),
            realtime=RealtimeEndpoint(url="ws://127.0.0.1:9/", api_key="sk-x"),
        )
    )
    return server


def client(server: TelephonyServer) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(server.app), base_url="http://bot:8765")


async def post(server, form=FORM, headers=None, url="/") -> httpx.Response:
    async with client(server) as c:
        return await c.post(
            url,
            content=urlencode(form),
            headers={"content-type": "application/x-www-form-urlencoded", **(headers or {})},
        )


def twilio_sig(url: str, form=FORM, token=TWILIO_TOKEN) -> dict[str, str]:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}


def stream_of(xml: str) -> ET.Element:
    stream = ET.fromstring(xml).find(".//Stream")
    assert stream is not None, xml
    return stream


async def test_twilio_unsigned_and_wrongly_signed_webhooks_are_forbidden():
    server = make_app("twilio", twilio_auth_token=TWILIO_TOKEN)
    assert (await post(server)).status_code == 403
    wrong_token = twilio_sig("http://bot:8765/", token="some-other-token-000000")
    assert (await post(server, headers=wrong_token)).status_code == 403
    # Signed for other parameters than the ones sent: a tampered caller ID.
    tampered = twilio_sig("http://bot:8765/", form={**FORM, "From": "+19999999999"})
    assert (await post(server, headers=tampered)).status_code == 403


async def test_twilio_signed_webhook_gets_twiml_with_a_stream_token():
    server = make_app("twilio", twilio_auth_token=TWILIO_TOKEN)
    response = await post(server, headers=twilio_sig("http://bot:8765/"))
    assert response.status_code == 200
    stream = stream_of(response.text)
    assert stream.get("url") == "ws://bot:8765/ws"
    params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert params["from_number"] == "+15551230000"
    assert server.security.check_stream("CA123", params["stream_token"]) is None


async def test_dev_mode_answers_unsigned_webhooks_without_tokens_and_warns():
    server = make_app("twilio")
    response = await post(server)
    assert response.status_code == 200
    assert "stream_token" not in response.text
    assert "DEV MODE" in server.security.dev_mode_warning()
    assert make_app("twilio", twilio_auth_token=TWILIO_TOKEN).security.dev_mode_warning() is None


async def test_behind_a_proxy_the_public_url_is_what_is_verified():
    server = make_app(
        "twilio", twilio_auth_token=TWILIO_TOKEN, public_url="https://bot.example.com"
    )
    ok = await post(server, headers=twilio_sig("https://bot.example.com/"))
    assert ok.status_code == 200
    assert stream_of(ok.text).get("url") == "wss://bot.example.com/ws"
    # The internal URL is not what Twilio signed.
    assert (await post(server, headers=twilio_sig("http://bot:8765/"))).status_code == 403


async def test_forwarded_headers_count_only_with_trusted_proxy():
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "edge.example.com"}
    signed = twilio_sig("https://edge.example.com/")
    untrusting = make_app("twilio", twilio_auth_token=TWILIO_TOKEN)
    assert (await post(untrusting, headers={**forwarded, **signed})).status_code == 403
    trusting = make_app("twilio", twilio_auth_token=TWILIO_TOKEN, trusted_proxy=True)
    response = await post(trusting, headers={**forwarded, **signed})
    assert response.status_code == 200
    assert stream_of(response.text).get("url") == "wss://edge.example.com/ws"


def telnyx_keys() -> tuple[Ed25519PrivateKey, str]:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return private, base64.b64encode(public).decode()


def telnyx_headers(private: Ed25519PrivateKey, body: bytes, stamp: int) -> dict[str, str]:
    signature = private.sign(f"{stamp}|".encode() + body)
    return {
        "telnyx-timestamp": str(stamp),
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
    }


async def test_telnyx_ed25519_signatures():
    private, public = telnyx_keys()
    server = make_app("telnyx", telnyx_public_key=public)
    body = urlencode(FORM).encode()
    now = int(time.time())
    signed = await post(server, headers=telnyx_headers(private, body, now))
    assert signed.status_code == 200
    query = parse_qs(urlsplit(stream_of(signed.text).get("url")).query)
    assert server.security.check_stream("CA123", query["stream_token"][0]) is None
    assert (await post(server)).status_code == 403
    other, _ = telnyx_keys()
    assert (await post(server, headers=telnyx_headers(other, body, now))).status_code == 403
    stale = telnyx_headers(private, body, now - 3600)
    assert (await post(server, headers=stale)).status_code == 403


def test_a_malformed_telnyx_public_key_stops_startup_naming_the_key():
    with pytest.raises(ConfigError) as error:
        make_app("telnyx", telnyx_public_key="not-a-key")
    assert "TELNYX_PUBLIC_KEY" in str(error.value)


async def test_plivo_v3_signed_webhook():
    server = make_app("plivo", plivo_auth_token=PLIVO_TOKEN)
    form = {"CallUUID": "uuid-1", "From": "+15551230000", "To": "+15559870000"}
    params = {k: [v] for k, v in form.items()}
    signature = plivo_v3_signature(PLIVO_TOKEN, "POST", "http://bot:8765/", params, "n1")
    headers = {"X-Plivo-Signature-V3": signature, "X-Plivo-Signature-V3-Nonce": "n1"}
    response = await post(server, form=form, headers=headers)
    assert response.status_code == 200
    query = parse_qs(urlsplit(stream_of(response.text).text.strip()).query)
    assert query["from_number"] == ["+15551230000"]
    assert server.security.check_stream("uuid-1", query["stream_token"][0]) is None
    assert (await post(server, form=form)).status_code == 403
    wrong = {**headers, "X-Plivo-Signature-V3-Nonce": "n2"}
    assert (await post(server, form=form, headers=wrong)).status_code == 403
