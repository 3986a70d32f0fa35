"""Tokens minted for the bot and for people, read back with livekit-api's TokenVerifier."""

import time
from datetime import timedelta

import jwt
import pytest
from livekit import api

from bot.config.errors import ConfigError
from bot.config.settings import Settings
from bot.rooms.livekit_tokens import (
    AGENT_TOKEN_TTL,
    BOT_ATTRIBUTE,
    agent_credentials,
    mint_participant_token,
    parse_ttl,
)

KEY = "devkey"
SECRET = "a-livekit-secret-that-is-32-bytes-long"


def settings(**values) -> Settings:
    return Settings(_env_file=None, **values)


def expires_in(token: str) -> float:
    claims = jwt.decode(token, options={"verify_signature": False})
    return claims["exp"] - time.time()


def test_the_bot_mints_an_agent_token_for_its_room_only():
    creds = agent_credentials(
        settings(livekit_api_key=KEY, livekit_api_secret=SECRET), "support", "wss://lk.example"
    )
    claims = api.TokenVerifier(KEY, SECRET).verify(creds.token)
    assert claims.identity == creds.identity and creds.identity.startswith("voicebot-")
    assert claims.kind == "agent"
    assert claims.attributes == {BOT_ATTRIBUTE: "1"}
    assert claims.video.room == "support" and claims.video.room_join and claims.video.agent
    assert not claims.video.room_admin and not claims.video.room_create
    assert 0 < expires_in(creds.token) <= AGENT_TOKEN_TTL.total_seconds()
    with pytest.raises(jwt.InvalidSignatureError):
        api.TokenVerifier(KEY, "another-secret-of-at-least-32-bytes!").verify(creds.token)


def test_the_participant_token_joins_one_room_for_its_ttl():
    token = mint_participant_token(KEY, SECRET, "support", "ada", parse_ttl("30m"))
    claims = api.TokenVerifier(KEY, SECRET).verify(token)
    assert claims.identity == "ada"
    assert claims.video.room == "support" and claims.video.room_join
    assert not claims.video.room_admin and not claims.video.agent
    assert 29 * 60 < expires_in(token) <= 30 * 60


def test_a_given_token_must_be_for_this_room_and_signed_by_our_secret():
    theirs = mint_participant_token(KEY, SECRET, "other-room", "x", timedelta(minutes=5))
    with pytest.raises(ConfigError, match="is for room 'other-room', not 'support'"):
        agent_credentials(settings(livekit_url="ws://h", livekit_token=theirs), "support")
    ours = mint_participant_token(KEY, SECRET, "support", "x", timedelta(minutes=5))
    wrong_secret = "not-the-secret-that-signed-this-token"
    with pytest.raises(ConfigError, match="signature does not match LIVEKIT_API_SECRET"):
        agent_credentials(
            settings(
                livekit_url="ws://h",
                livekit_token=ours,
                livekit_api_key=KEY,
                livekit_api_secret=wrong_secret,
            ),
            "support",
        )
    creds = agent_credentials(settings(livekit_url="ws://h", livekit_token=ours), "support")
    assert creds.identity == "x" and not creds.has_server_api


def test_ttl_parsing():
    assert parse_ttl("1h") == timedelta(hours=1)
    assert parse_ttl("90") == timedelta(seconds=90)
    for bad in ("0s", "1w", "-5m", ""):
        with pytest.raises(ValueError):
            parse_ttl(bad)
