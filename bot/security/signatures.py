"""Provider request signatures: Twilio (HMAC-SHA1, via twilio's RequestValidator), Telnyx
(ed25519 over "timestamp|body") and Plivo (V3: HMAC-SHA256 over URL, sorted params, nonce).

Each check returns None when the request is authentic, else a short reason for the log.
Reasons never contain the signature, the secret or the request body.
"""

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from twilio.request_validator import RequestValidator

# Telnyx signs a timestamp; older ones are replays (Telnyx's own SDK allows 300 s).
TELNYX_TOLERANCE_S = 300


def check_twilio(
    auth_token: str, url: str, params: Mapping[str, str], signature: str | None
) -> str | None:
    if not signature:
        return "missing X-Twilio-Signature"
    # RequestValidator also handles the bodySHA256 variant and the with/without-port forms.
    if not RequestValidator(auth_token).validate(url, params, signature):
        return f"X-Twilio-Signature does not match {url}"
    return None


def load_telnyx_key(public_key_b64: str) -> Ed25519PublicKey:
    """Raises ValueError when TELNYX_PUBLIC_KEY is not a base64 ed25519 public key."""
    try:
        raw = base64.b64decode(public_key_b64.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise ValueError("must be the base64 ed25519 public key from the Telnyx portal") from None


def check_telnyx(
    key: Ed25519PublicKey,
    body: bytes,
    signature_b64: str | None,
    timestamp: str | None,
    now: float | None = None,
) -> str | None:
    if not signature_b64 or not timestamp:
        return "missing telnyx-signature-ed25519 / telnyx-timestamp"
    try:
        age = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        return "telnyx-timestamp is not a number"
    if age > TELNYX_TOLERANCE_S:
        return f"telnyx-timestamp is {age:.0f} s off (limit {TELNYX_TOLERANCE_S} s)"
    try:
        key.verify(base64.b64decode(signature_b64, validate=True), f"{timestamp}|".encode() + body)
    except (binascii.Error, ValueError, InvalidSignature):
        return "telnyx-signature-ed25519 does not verify"
    return None


def _sorted_query(params: Mapping[str, list[str]]) -> str:
    return "&".join(f"{k}={v}" for k in sorted(params) for v in sorted(params[k]))


def _sorted_body(params: Mapping[str, list[str]]) -> str:
    return "".join(f"{k}{v}" for k in sorted(params) for v in sorted(params[k]))


def plivo_v3_signature(
    auth_token: str, method: str, url: str, params: Mapping[str, list[str]], nonce: str
) -> str:
    """Plivo's V3 signature (as in plivo-python's signature_v3): the URL with its query sorted;
    for POST with parameters, then "?"/"." and key+value pairs sorted; then "." and the nonce."""
    parts = urlsplit(url)
    query: dict[str, list[str]] = {}
    for k, v in parse_qsl(parts.query, keep_blank_values=True):
        query.setdefault(k, []).append(v)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    sorted_query = _sorted_query(query)
    has_body = method.upper() == "POST" and bool(params)
    if sorted_query or has_body:
        base += "?" + sorted_query
    if has_body:
        base += ("." if sorted_query else "") + _sorted_body(params)
    digest = hmac.new(auth_token.encode(), f"{base}.{nonce}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def check_plivo(
    auth_token: str,
    method: str,
    url: str,
    params: Mapping[str, list[str]],
    signature: str | None,
    nonce: str | None,
) -> str | None:
    if not signature or not nonce:
        return "missing X-Plivo-Signature-V3 / X-Plivo-Signature-V3-Nonce"
    expected = plivo_v3_signature(auth_token, method, url, params, nonce)
    # Plivo sends several comma-separated signatures while an auth token is being rotated.
    if not any(hmac.compare_digest(expected, s.strip()) for s in signature.split(",")):
        return f"X-Plivo-Signature-V3 does not match {url}"
    return None
