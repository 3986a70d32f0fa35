"""Per-call stream tokens: the webhook answer carries one, the media stream must present it.

A token is HMAC-SHA256(secret, "call_id|expiry"), so it opens only the stream of the call
it was minted for, only until it expires, and only once. Without it anyone who knows the
/ws URL could open streams and spend the owner's Realtime minutes.
"""

import base64
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable

TOKEN_PREFIX = "vst1"
# Also used by the log redactor: minted tokens are secrets that are not in the settings.
TOKEN_PATTERN = re.compile(rf"{TOKEN_PREFIX}\.\d{{1,12}}\.[A-Za-z0-9_-]{{20,}}")
MAX_TOKEN_LEN = 200


class StreamTokens:
    def __init__(self, secret: bytes | None, ttl_s: float, clock: Callable[[], float] = time.time):
        # A random secret is fine for one process; several processes behind one webhook
        # need the same STREAM_TOKEN_SECRET.
        self._secret = secret or secrets.token_bytes(32)
        self._ttl_s = ttl_s
        self._clock = clock
        self._used: dict[str, float] = {}

    def _mac(self, call_id: str, expiry: int) -> str:
        digest = hmac.new(self._secret, f"{call_id}|{expiry}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def mint(self, call_id: str) -> str:
        expiry = int(self._clock() + self._ttl_s)
        return f"{TOKEN_PREFIX}.{expiry}.{self._mac(call_id, expiry)}"

    def check(self, token: object, call_id: str) -> str | None:
        """None when ``token`` opens ``call_id``'s stream now, else the reason it does not."""
        if not token:
            return "no stream token"
        if not isinstance(token, str) or len(token) > MAX_TOKEN_LEN:
            return "malformed stream token"
        prefix, _, rest = token.partition(".")
        expiry_text, _, mac = rest.partition(".")
        if prefix != TOKEN_PREFIX or not expiry_text.isdigit() or not mac:
            return "malformed stream token"
        expiry = int(expiry_text)
        if not hmac.compare_digest(mac, self._mac(call_id, expiry)):
            return "stream token was not issued for this call"
        now = self._clock()
        if expiry < now:
            return f"stream token expired {now - expiry:.0f} s ago"
        self._used = {t: e for t, e in self._used.items() if e >= now}
        if token in self._used:
            return "stream token already used"
        self._used[token] = expiry
        return None
