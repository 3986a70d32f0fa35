"""LiveKit access tokens: the bot's own (agent, one room, short-lived) and a human's.

Minted with livekit-api's `AccessToken`; a token handed in through LIVEKIT_TOKEN is read with
its `TokenVerifier` (signature checked when the secret is known) so a token for the wrong
room or an expired one stops start-up with one line instead of a failed join later.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from livekit import api

from bot.config.errors import ConfigError
from bot.config.settings import Settings

# How our bots recognise each other in a room (see bot/rooms/participants.py).
AGENT_IDENTITY_PREFIX = "voicebot-"
BOT_ATTRIBUTE = "voicebot.agent"
# The bot's token is used once, to join; the server refreshes it for the session after that.
AGENT_TOKEN_TTL = timedelta(minutes=10)
_TTL_RE = re.compile(r"(\d+)([smhd]?)")
_TTL_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class AgentCredentials:
    """How this bot joins a room, and (when the key is known) how it may call the server API."""

    url: str
    token: str
    identity: str
    api_key: str | None = None
    api_secret: str | None = None

    @property
    def has_server_api(self) -> bool:
        return bool(self.api_key and self.api_secret)


def parse_ttl(text: str) -> timedelta:
    """'90s', '30m', '1h', '2d' or bare seconds; never zero."""
    match = _TTL_RE.fullmatch(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"invalid TTL {text!r}; use e.g. 90s, 30m, 1h, 2d")
    return timedelta(seconds=int(match.group(1)) * _TTL_UNITS[match.group(2)])


def mint_agent_token(
    api_key: str, api_secret: str, room: str, identity: str, ttl: timedelta = AGENT_TOKEN_TTL
) -> str:
    """An agent-kind token that can join only `room`, marked so other bots of ours see it."""
    return (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name("Voice bot")
        .with_kind("agent")
        .with_attributes({BOT_ATTRIBUTE: "1"})
        .with_ttl(ttl)
        .with_grants(
            api.VideoGrants(
                room_join=True,
                room=room,
                agent=True,
                can_publish=True,
                can_subscribe=True,
                can_publish_data=True,
            )
        )
        .to_jwt()
    )


def mint_participant_token(
    api_key: str, api_secret: str, room: str, identity: str, ttl: timedelta
) -> str:
    """A human's token: join `room` only, publish and subscribe, no admin rights."""
    return (
        api.AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(identity)
        .with_ttl(ttl)
        .with_grants(api.VideoGrants(room_join=True, room=room))
        .to_jwt()
    )


def new_agent_identity() -> str:
    return f"{AGENT_IDENTITY_PREFIX}{uuid.uuid4().hex[:8]}"


def require_server_keys(settings: Settings) -> tuple[str, str]:
    key = settings.livekit_api_key
    secret = settings.livekit_api_secret.get_secret_value() if settings.livekit_api_secret else ""
    if not key:
        raise ConfigError(
            "LIVEKIT_API_KEY", "not set (needed to mint tokens; or set LIVEKIT_TOKEN)"
        )
    if not secret:
        raise ConfigError("LIVEKIT_API_SECRET", "not set (needed to mint tokens)")
    return key, secret


def agent_credentials(settings: Settings, room: str, url: str | None = None) -> AgentCredentials:
    """The bot's URL and token for `room`: LIVEKIT_TOKEN if given, else minted here.

    Raises:
        ConfigError: no URL, no way to get a token, or a given token that cannot join `room`.
    """
    url = url or settings.livekit_url
    if not url:
        raise ConfigError(
            "LIVEKIT_URL",
            "not set; give --livekit-url or set LIVEKIT_URL "
            "(wss://<project>.livekit.cloud, or ws://127.0.0.1:7880 for livekit-server --dev)",
        )
    if settings.livekit_token is not None:
        return _given_token(settings, room, url)
    key, secret = require_server_keys(settings)
    identity = new_agent_identity()
    token = mint_agent_token(key, secret, room, identity)
    return AgentCredentials(url, token, identity, api_key=key, api_secret=secret)


def _given_token(settings: Settings, room: str, url: str) -> AgentCredentials:
    token = settings.livekit_token.get_secret_value()  # type: ignore[union-attr]
    key = settings.livekit_api_key
    secret = settings.livekit_api_secret.get_secret_value() if settings.livekit_api_secret else None
    check_signature = bool(key and secret)
    try:
        claims = api.TokenVerifier(key or "-", secret or "-").verify(
            token, verify_signature=check_signature
        )
        expires_at = _expiry(token)
    except Exception as e:
        # The token itself is never echoed: it is a credential.
        reason = "signature does not match LIVEKIT_API_SECRET" if check_signature else "not a JWT"
        raise ConfigError("LIVEKIT_TOKEN", f"{reason} ({type(e).__name__})") from None
    grant = claims.video
    if grant is None or not grant.room_join:
        raise ConfigError("LIVEKIT_TOKEN", "has no room_join grant")
    if grant.room and grant.room != room:
        raise ConfigError("LIVEKIT_TOKEN", f"is for room {grant.room!r}, not {room!r}")
    if expires_at is not None and expires_at < time.time():
        raise ConfigError("LIVEKIT_TOKEN", "has expired; mint a new one")
    return AgentCredentials(
        url, token, claims.identity, api_key=key, api_secret=secret if check_signature else None
    )


def _expiry(token: str) -> float | None:
    import jwt  # livekit-api's own JWT library

    exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    return float(exp) if exp is not None else None
