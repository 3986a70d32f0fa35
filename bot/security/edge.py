"""Who may use the phone edge: webhook signatures, the signed stream upgrade, stream tokens.

A provider's checks are enforced when its secret is set (TWILIO_AUTH_TOKEN, TELNYX_PUBLIC_KEY,
PLIVO_AUTH_TOKEN). Without one the server runs in dev mode — anyone may call it — and says
so loudly at start-up. Every method returns None for "allowed", else the reason to log.
"""

from fastapi import Request, WebSocket
from starlette.datastructures import URL, Headers

from bot.config.errors import ConfigError
from bot.config.settings import Settings
from bot.security import signatures
from bot.security.public_url import seen_url
from bot.security.stream_tokens import StreamTokens

# Where the stream token rides: a TwiML <Parameter> (Twilio drops query strings from stream
# URLs) and, for the other providers, the stream URL's query.
TOKEN_FIELD = "stream_token"
ASTERISK_LINES = ("asterisk", "audiosocket")
_SECRET_NAMES = {
    "twilio": "TWILIO_AUTH_TOKEN",
    "telnyx": "TELNYX_PUBLIC_KEY",
    "plivo": "PLIVO_AUTH_TOKEN",
}


def _secret(value) -> str | None:
    return value.get_secret_value() if value is not None else None


class EdgeSecurity:
    def __init__(self, provider: str, settings: Settings):
        self.provider = provider
        self._settings = settings
        self._twilio_token = _secret(settings.twilio_auth_token) if provider == "twilio" else None
        self._plivo_token = _secret(settings.plivo_auth_token) if provider == "plivo" else None
        self._telnyx_key = None
        if provider == "telnyx" and settings.telnyx_public_key:
            try:
                self._telnyx_key = signatures.load_telnyx_key(settings.telnyx_public_key)
            except ValueError as e:
                raise ConfigError("TELNYX_PUBLIC_KEY", str(e)) from None
        self.signatures_enforced = bool(self._twilio_token or self._plivo_token or self._telnyx_key)
        explicit_secret = _secret(settings.stream_token_secret)
        # Exotel's stream URL is fixed in its applet, so it cannot carry a per-call token.
        self.tokens_required = self.signatures_enforced or (
            bool(explicit_secret) and provider != "exotel"
        )
        self.tokens = StreamTokens(
            explicit_secret.encode() if explicit_secret else None, settings.stream_token_ttl_s
        )

    def dev_mode_warning(self) -> str | None:
        if self.signatures_enforced or self.provider == "webrtc":
            return None  # the browser page has its own rule (bot/webrtc/access.py)
        if self.provider in ASTERISK_LINES:
            return (
                f"SECURITY: {self.provider} lines carry no credentials: anyone who can reach "
                "this port can place calls on your OpenAI key. Bind --host to the PBX's "
                "network or firewall the port to the PBX (docs/asterisk.md)."
            )
        secret = _SECRET_NAMES.get(self.provider)
        fix = f"set {secret} to enforce them" if secret else "Exotel does not sign its streams"
        return (
            f"SECURITY: DEV MODE: {self.provider} webhooks and media streams are NOT "
            f"authenticated; anyone who finds this server can place calls on your OpenAI key "
            f"({fix})."
        )

    def _url(self, url: URL, headers: Headers, websocket: bool) -> str:
        return seen_url(
            url,
            headers,
            public_url=self._settings.public_url,
            trusted_proxy=self._settings.trusted_proxy,
            websocket=websocket,
        )

    async def check_webhook(self, request: Request) -> str | None:
        if not self.signatures_enforced:
            return None
        headers = request.headers
        url = self._url(request.url, headers, websocket=False)
        if self._telnyx_key is not None:
            return signatures.check_telnyx(
                self._telnyx_key,
                await request.body(),
                headers.get("telnyx-signature-ed25519"),
                headers.get("telnyx-timestamp"),
            )
        form = await request.form() if "form" in headers.get("content-type", "") else None
        if self._twilio_token:
            return signatures.check_twilio(
                self._twilio_token, url, form or {}, headers.get("x-twilio-signature")
            )
        params = {k: form.getlist(k) for k in form} if form else {}
        return signatures.check_plivo(
            self._plivo_token or "",
            request.method,
            url,
            params,
            headers.get("x-plivo-signature-v3"),
            headers.get("x-plivo-signature-v3-nonce"),
        )

    def check_upgrade(self, websocket: WebSocket) -> str | None:
        """Twilio signs the WebSocket upgrade too (the wss:// URL, no parameters)."""
        if not self._twilio_token:
            return None
        url = self._url(websocket.url, websocket.headers, websocket=True)
        signature = websocket.headers.get("x-twilio-signature")
        return signatures.check_twilio(self._twilio_token, url, {}, signature)

    def mint(self, call_id: str) -> str | None:
        return self.tokens.mint(call_id) if self.tokens_required else None

    def check_stream(self, call_id: str, token: object) -> str | None:
        return self.tokens.check(token, call_id) if self.tokens_required else None
