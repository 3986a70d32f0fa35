"""Settings come from env and .env, fail with one-line errors, and never show secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.config.errors import ConfigError
from bot.config.settings import Settings, load_settings

SECRET = "sk-test-DO-NOT-LEAK-1234567890"


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No real env vars or .env file may leak into these tests."""
    for field in Settings.model_fields:
        monkeypatch.delenv(field.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_without_env_or_dotenv() -> None:
    s = load_settings()
    assert s.openai_api_key is None
    assert s.openai_realtime_url == "wss://api.openai.com/v1/realtime"
    assert s.bot_profile == "default"
    assert s.company_name == "Acme"
    assert s.records_dir == Path("records")
    assert s.public_url is None
    assert s.log_level == "INFO"
    assert s.secret_values() == []


def test_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("COMPANY_NAME", "Globex")
    monkeypatch.setenv("PUBLIC_URL", "https://bot.example.com/")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    s = load_settings()
    assert isinstance(s.openai_api_key, SecretStr)
    assert s.openai_api_key.get_secret_value() == SECRET
    assert s.company_name == "Globex"
    assert s.public_url == "https://bot.example.com"  # trailing slash dropped for joining
    assert s.log_level == "DEBUG"


def test_reads_dotenv_file(isolated_env: Path) -> None:
    (isolated_env / ".env").write_text(
        "BOT_PROFILE=noisy_line\nTWILIO_ACCOUNT_SID=AC123\nTWILIO_AUTH_TOKEN=tok\n"
        "PUBLIC_URL=\nUNRELATED_VAR=ignored\n"
    )
    s = load_settings()
    assert s.bot_profile == "noisy_line"
    assert s.twilio_account_sid == "AC123"
    assert s.twilio_auth_token is not None
    assert s.twilio_auth_token.get_secret_value() == "tok"
    assert s.public_url is None  # an empty line copied from .env.example means unset


def test_env_overrides_dotenv(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_env / ".env").write_text("COMPANY_NAME=FromFile\nBOT_PROFILE=from_file\n")
    monkeypatch.setenv("COMPANY_NAME", "FromEnv")
    s = load_settings()
    assert s.company_name == "FromEnv"
    assert s.bot_profile == "from_file"


def test_keyword_overrides_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPANY_NAME", "FromEnv")
    assert load_settings(company_name="FromCode").company_name == "FromCode"


@pytest.mark.parametrize("url", ["https://api.openai.com/v1/realtime", "api.openai.com", "wss://"])
def test_bad_realtime_url_names_env_var(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("OPENAI_REALTIME_URL", url)
    with pytest.raises(ConfigError) as info:
        load_settings()
    err = info.value
    assert err.key == "OPENAI_REALTIME_URL"
    assert str(err).startswith("config error: OPENAI_REALTIME_URL: ")
    assert "ws://" in str(err) and "wss://" in str(err)
    assert "\n" not in str(err)


def test_bad_realtime_url_from_dotenv(isolated_env: Path) -> None:
    (isolated_env / ".env").write_text("OPENAI_REALTIME_URL=http://localhost:1234\n")
    with pytest.raises(ConfigError, match="OPENAI_REALTIME_URL"):
        load_settings()


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("LOG_LEVEL", "LOUD"),
        ("PUBLIC_URL", "ftp://example.com"),
        ("LIVEKIT_URL", "example.livekit.cloud"),
        ("PRICES_FILE", "does/not/exist.json"),
        ("COMPANY_NAME", "   "),
    ],
)
def test_invalid_values_name_their_env_var(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert info.value.key == var
    assert "\n" not in str(info.value)


def test_several_errors_reported_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_REALTIME_URL", "http://x")
    monkeypatch.setenv("LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError) as info:
        load_settings()
    text = str(info.value)
    assert "OPENAI_REALTIME_URL" in text and "LOG_LEVEL" in text
    assert "\n" not in text


def test_existing_prices_file_accepted(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_env / "prices.json").write_text("{}")
    monkeypatch.setenv("PRICES_FILE", "prices.json")
    assert load_settings().prices_file == Path("prices.json")


def test_secrets_hidden_from_repr_and_listed_for_redaction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secrets = {
        "OPENAI_API_KEY": SECRET,
        "TWILIO_AUTH_TOKEN": "twilio-secret-abc",
        "TELNYX_API_KEY": "telnyx-secret-abc",
        "PLIVO_AUTH_TOKEN": "plivo-secret-abc",
        "EXOTEL_API_TOKEN": "exotel-secret-abc",
        "LIVEKIT_API_SECRET": "livekit-secret-abc",
        "LIVEKIT_TOKEN": "livekit-token-abc",
    }
    for key, value in secrets.items():
        monkeypatch.setenv(key, value)
    s = load_settings()
    for rendered in (repr(s), str(s), s.model_dump_json()):
        for value in secrets.values():
            assert value not in rendered
    assert sorted(s.secret_values()) == sorted(secrets.values())


def test_secret_never_in_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    # A URL carrying the key in its query string must not be echoed back either.
    monkeypatch.setenv("OPENAI_REALTIME_URL", f"https://api.openai.com/v1/realtime?key={SECRET}")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_secret_with_wrong_type_not_echoed() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(openai_api_key=[SECRET])
    assert info.value.key == "OPENAI_API_KEY"
    assert SECRET not in str(info.value)


def test_env_example_lists_every_setting() -> None:
    example = Path(__file__).resolve().parents[2] / ".env.example"
    names = {
        line.split("=", 1)[0]
        for line in example.read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert names == {field.upper() for field in Settings.model_fields}
