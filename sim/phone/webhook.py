"""The provider's side of answering a call: POST the incoming-call webhook, signed as the
provider signs it, and read the stream URL, <Parameter>s and upgrade headers from the answer.

`PhoneCaller(**invite.caller_kwargs())` then opens the stream exactly as the provider would.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from twilio.request_validator import RequestValidator


class WebhookRefused(Exception):
    def __init__(self, status: int):
        super().__init__(f"webhook answered HTTP {status}")
        self.status = status


@dataclass
class StreamInvite:
    url: str
    call_sid: str
    parameters: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def caller_kwargs(self) -> dict:
        return {
            "url": self.url,
            "call_sid": self.call_sid,
            "custom_parameters": self.parameters,
            "extra_headers": self.headers,
        }


@dataclass
class WebhookSigner:
    """The secret a provider signs with; None fields mean "send unsigned"."""

    twilio_auth_token: str | None = None
    telnyx_private_key: Ed25519PrivateKey | None = None
    plivo_auth_token: str | None = None


def plivo_v3_signature(auth_token: str, url: str, form: dict[str, str], nonce: str) -> str:
    """How Plivo signs a POSTed webhook (V3): URL without its query, "?", the query's pairs
    sorted, "." between query and body when both exist, the body's keys+values sorted, then
    "." and the nonce; HMAC-SHA256, base64. Written apart from the bot's verifier on purpose,
    so that the two check each other."""
    scheme, netloc, path, query, _ = urlsplit(url)
    query_part = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(query)))
    body_part = "".join(k + v for k, v in sorted(form.items()))
    joiner = "." if query_part and body_part else ""
    message = f"{scheme}://{netloc}{path}?{query_part}{joiner}{body_part}.{nonce}"
    digest = hmac.new(auth_token.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _new_call_sid(provider: str) -> str:
    return {"twilio": "CA" + uuid.uuid4().hex, "telnyx": "v3:" + uuid.uuid4().hex}.get(
        provider, str(uuid.uuid4())
    )


async def answer_call(
    http_url: str,
    provider: str = "twilio",
    signer: WebhookSigner | None = None,
    *,
    caller_number: str = "+15551230000",
    called_number: str = "+15559870000",
    caller_name: str | None = None,
    webhook_url: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> StreamInvite:
    """POST the webhook at ``http_url`` as ``provider`` would; ``webhook_url`` is the URL the
    provider believes it calls (what it signs), by default ``http_url + "/"``."""
    signer = signer or WebhookSigner()
    call_sid = _new_call_sid(provider)
    signed_url = webhook_url or http_url.rstrip("/") + "/"
    form = {"From": caller_number, "To": called_number}
    form["CallUUID" if provider == "plivo" else "CallSid"] = call_sid
    if caller_name:
        form["CallerName"] = caller_name
    body = urlencode(form).encode()
    headers = {"content-type": "application/x-www-form-urlencoded", **(extra_headers or {})}
    if provider == "twilio" and signer.twilio_auth_token:
        validator = RequestValidator(signer.twilio_auth_token)
        headers["X-Twilio-Signature"] = validator.compute_signature(signed_url, form)
    elif provider == "telnyx" and signer.telnyx_private_key:
        stamp = str(int(time.time()))
        signature = signer.telnyx_private_key.sign(f"{stamp}|".encode() + body)
        headers["telnyx-timestamp"] = stamp
        headers["telnyx-signature-ed25519"] = base64.b64encode(signature).decode()
    elif provider == "plivo" and signer.plivo_auth_token:
        nonce = secrets.token_hex(10)
        headers["X-Plivo-Signature-V3-Nonce"] = nonce
        headers["X-Plivo-Signature-V3"] = plivo_v3_signature(
            signer.plivo_auth_token, signed_url, form, nonce
        )
    async with httpx.AsyncClient() as client:
        response = await client.post(http_url.rstrip("/") + "/", content=body, headers=headers)
    if response.status_code != 200:
        raise WebhookRefused(response.status_code)
    return _invite(response.text, provider, call_sid, signer)


def _invite(xml: str, provider: str, call_sid: str, signer: WebhookSigner) -> StreamInvite:
    stream = ET.fromstring(xml).find(".//Stream")
    if stream is None:
        raise ValueError("webhook answer has no <Stream>")
    url = (stream.text or "").strip() if provider == "plivo" else stream.get("url", "")
    parameters = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    headers: dict[str, str] = {}
    if provider == "twilio" and signer.twilio_auth_token:
        # Twilio signs the stream's WebSocket upgrade as a request to the wss:// URL.
        validator = RequestValidator(signer.twilio_auth_token)
        headers["X-Twilio-Signature"] = validator.compute_signature(url, {})
    return StreamInvite(url=url, call_sid=call_sid, parameters=parameters, headers=headers)
