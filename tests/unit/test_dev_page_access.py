"""DEV_PAGE: where the browser dev page is on by itself, where it needs the edge's secret,
and what a request must carry then."""

import pytest
from pydantic import SecretStr
from starlette.requests import Request

from bot.config.errors import ConfigError
from bot.config.settings import Settings
from bot.webrtc.access import KEY_COOKIE, DevPageAccess

SECRET = "edge-secret-123"


def settings(mode: str, secret: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        dev_page=mode,
        stream_token_secret=SecretStr(secret) if secret else None,
    )


def request(headers: dict[str, str] | None = None, query: str = "") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    return Request({"type": "http", "headers": raw, "query_string": query.encode()})


@pytest.mark.parametrize("host", ["127.0.0.1", "::1", "localhost", "127.0.0.2"])
def test_auto_is_on_for_loopback_binds_even_with_a_key(host):
    access = DevPageAccess.decide(settings("auto"), host, emulated=False)
    assert access.enabled and access.refusal(request()) is None


def test_auto_is_off_on_a_public_bind_with_a_key_and_says_how_to_turn_it_on():
    access = DevPageAccess.decide(settings("auto"), "0.0.0.0", emulated=False)
    assert not access.enabled
    reason = access.refusal(request())
    assert "DEV_PAGE" in reason and "127.0.0.1" in reason


def test_auto_is_on_offline_on_any_bind():
    access = DevPageAccess.decide(settings("auto"), "0.0.0.0", emulated=True)
    assert access.enabled and access.refusal(request()) is None


def test_off_is_off_even_on_loopback():
    access = DevPageAccess.decide(settings("off"), "127.0.0.1", emulated=True)
    assert not access.enabled and "DEV_PAGE=off" in access.refusal(request())


def test_on_a_public_bind_needs_stream_token_secret_at_start_up():
    with pytest.raises(ConfigError) as error:
        DevPageAccess.decide(settings("on"), "0.0.0.0", emulated=False)
    assert "STREAM_TOKEN_SECRET" in str(error.value)


def test_on_a_public_bind_each_request_carries_the_secret():
    access = DevPageAccess.decide(settings("on", SECRET), "10.0.0.5", emulated=False)
    assert access.enabled
    assert access.refusal(request()) is not None
    assert access.refusal(request({"Authorization": "Bearer wrong"})) is not None
    assert access.refusal(request({"Authorization": f"Bearer {SECRET}"})) is None
    assert access.refusal(request({"Cookie": f"{KEY_COOKIE}={SECRET}"})) is None
    assert access.refusal(request(query=f"key={SECRET}")) is None
