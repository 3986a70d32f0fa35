"""Who may open the dev page and its offer endpoint (DEV_PAGE=auto|on|off).

Every offer opens a Realtime session, paid for on the server's key. So the page is on by
itself only where nobody else can reach it or nothing is paid for: a loopback bind, or the
bundled emulator. On any other bind it takes DEV_PAGE=on, and then the same secret as the
rest of the edge (STREAM_TOKEN_SECRET), presented as `Authorization: Bearer …` or once as
`/?key=…`, which leaves a same-site cookie for the page's own requests.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass

from fastapi import Request

from bot.config.errors import ConfigError
from bot.config.settings import Settings

KEY_COOKIE = "dev_page_key"
KEY_QUERY = "key"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class DevPageAccess:
    """`enabled` False: every dev-page request is refused with `reason`. `secret` set: the
    page is on but each request must carry it."""

    enabled: bool
    reason: str = ""
    secret: str | None = None

    @classmethod
    def decide(cls, settings: Settings, host: str, *, emulated: bool) -> DevPageAccess:
        mode = settings.dev_page
        if mode == "off":
            return cls(False, "the dev page is off (DEV_PAGE=off)")
        if is_loopback(host):
            return cls(True)
        if mode == "auto":
            if emulated:
                return cls(True)  # the emulator costs nothing
            return cls(
                False,
                f"the dev page is off on a public bind ({host}) with an OpenAI key "
                "(DEV_PAGE=auto): bind --host 127.0.0.1, or set DEV_PAGE=on and "
                "STREAM_TOKEN_SECRET",
            )
        secret = settings.stream_token_secret
        if secret is None or not secret.get_secret_value():
            raise ConfigError(
                "STREAM_TOKEN_SECRET",
                f"must be set with DEV_PAGE=on on a public bind ({host}): the dev page's "
                "calls are paid on your key and need the edge's secret",
            )
        return cls(True, secret=secret.get_secret_value())

    def refusal(self, request: Request) -> str | None:
        """None when this request may use the page, else why not."""
        if not self.enabled:
            return self.reason
        if self.secret is None:
            return None
        header = request.headers.get("authorization", "")
        presented = (
            header.removeprefix("Bearer ").strip()
            if header.startswith("Bearer ")
            else request.cookies.get(KEY_COOKIE) or request.query_params.get(KEY_QUERY) or ""
        )
        if presented and hmac.compare_digest(presented.encode(), self.secret.encode()):
            return None
        return "the dev page needs STREAM_TOKEN_SECRET (open /?key=… once, or send a Bearer header)"
