"""Process settings read from the environment and an optional ``.env`` file.

Environment variables win over ``.env``; both use the upper-case field name
(``OPENAI_API_KEY``, ``BOT_PROFILE`` ...). Build settings with :func:`load_settings`, which
turns validation failures into a one-line :class:`ConfigError` naming the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from loguru import logger
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config.errors import ConfigError
from bot.config.realtime import (
    RealtimeResilienceConfig,
    RealtimeTimeouts,
    ReconnectPolicy,
    RolloverPolicy,
)


def _require_scheme(value: str | None, schemes: tuple[str, ...]) -> str | None:
    if value is None:
        return None
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.netloc:
        # The value itself is deliberately not echoed: URLs can carry tokens in the query.
        allowed = " or ".join(f"{s}://" for s in schemes)
        raise ValueError(f"must be an absolute URL starting with {allowed}")
    return value


class Settings(BaseSettings):
    """All process-wide settings. Secrets are ``SecretStr`` so they never show in reprs."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # A copied .env.example leaves `KEY=` lines; treat them as unset, not as "".
        env_ignore_empty=True,
    )

    # OpenAI
    openai_api_key: SecretStr | None = None
    openai_realtime_url: str = "wss://api.openai.com/v1/realtime"

    # Realtime resilience (docs/resilience.md)
    realtime_connect_timeout_s: float = Field(default=5.0, gt=0)
    realtime_session_updated_timeout_s: float = Field(default=5.0, gt=0)
    realtime_first_audio_timeout_s: float = Field(default=5.0, gt=0)
    realtime_tool_timeout_s: float = Field(default=20.0, gt=0)
    realtime_reconnect_attempts: int = Field(default=5, ge=1)
    realtime_audio_buffer_s: float = Field(default=5.0, gt=0)
    realtime_rollover_lead_s: float = Field(default=30.0, gt=0)
    realtime_rollover: bool = True

    # Bot
    bot_profile: str = "default"
    company_name: str = "Acme"
    records_dir: Path = Path("records")
    public_url: str | None = None
    log_level: str = "INFO"
    prices_file: Path | None = None

    # Twilio
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_base_url: str | None = None

    # Telnyx
    telnyx_api_key: SecretStr | None = None
    telnyx_public_key: str | None = None

    # Plivo
    plivo_auth_id: str | None = None
    plivo_auth_token: SecretStr | None = None

    # Exotel
    exotel_api_key: str | None = None
    exotel_api_token: SecretStr | None = None

    # After-call delivery (send_call_summary / request_transcript tools)
    summary_webhook_url: str | None = None
    summary_webhook_secret: SecretStr | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    summary_email_from: str | None = None
    summary_email_to: str | None = None

    # LiveKit
    livekit_url: str | None = None
    livekit_api_key: str | None = None
    livekit_api_secret: SecretStr | None = None
    livekit_token: SecretStr | None = None
    # Seconds the bot stays after the last human left (a reconnect within it keeps the call).
    livekit_leave_grace_s: float = Field(default=5.0, ge=0, le=3600)
    # Dispatch mode: most rooms served at once (one bot process each).
    livekit_max_rooms: int = Field(default=10, ge=1, le=1000)

    # Daily
    daily_token: SecretStr | None = None

    # Asterisk (docs/asterisk.md)
    # When set, every FastAGI request must carry it as its second argument.
    asterisk_agi_secret: SecretStr | None = None
    # Which profile answers which number dialled: "2001=sales,2002=/etc/bot/support.yaml".
    did_profiles: str | None = None

    # Edge security and limits (docs/security.md)
    trusted_proxy: bool = False
    # The browser dev page (GET /, POST/PATCH /api/offer): auto = on for a loopback bind or
    # offline; on = also on a public bind, behind STREAM_TOKEN_SECRET; off = never.
    dev_page: Literal["auto", "on", "off"] = "auto"
    stream_token_secret: SecretStr | None = None
    stream_token_ttl_s: int = Field(default=120, ge=5, le=3600)
    max_message_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    max_concurrent_calls: int = Field(default=50, ge=1)
    max_call_duration_s: float = Field(default=3600.0, gt=0)
    idle_timeout_s: float = Field(default=15.0, gt=0)

    # Spend guard (docs/operations.md): the UTC day's estimated spend across all calls and
    # workers, from the call records; 0 = no daily cap.
    daily_budget_usd: float = Field(default=0.0, ge=0)
    # Realtime sessions at once across all workers on this host (the account's default
    # concurrency limit); apart from MAX_CONCURRENT_CALLS, which is per worker.
    max_realtime_sessions: int = Field(default=100, ge=1)

    # Scale and operations (docs/scaling.md)
    # Caller audio reaches the pipeline in frames of this many ms (a multiple of the line's
    # 20 ms): bigger costs less CPU per call and adds up to this much turn latency.
    audio_in_batch_ms: int = Field(default=60, ge=20, le=200, multiple_of=20)
    # Phone lines: `auto` lets a call's audio skip the processors that do not want it (the
    # fast lane, when none between the line and the model does); `full` walks every frame
    # through the whole pipeline (docs/scaling.md).
    audio_lane: Literal["auto", "full"] = "auto"
    # Bot audio is written to the line in chunks of this many ms.
    audio_out_chunk_ms: int = Field(default=100, ge=20, le=500, multiple_of=10)
    # Twilio, Telnyx, Plivo: bot audio is sent up to this far ahead of playback (they queue
    # it, and a barge-in clears the queue), so a stall shorter than this is not heard;
    # 0 = Pipecat's pacing (each chunk as the one before it ends).
    audio_out_lead_ms: int = Field(default=300, ge=0, le=2000)
    # Server processes sharing the port; each call lives on one of them.
    workers: int = Field(default=1, ge=1, le=256)
    # On SIGTERM, how long live calls may keep going before they are ended.
    drain_timeout_s: float = Field(default=300.0, ge=0)
    # Then, how long the calls ended by the server get to finish and write their records;
    # past it the process exits anyway, naming them (Pipecat's own cancel waits up to 20 s).
    drain_grace_s: float = Field(default=25.0, ge=0)
    # After a call ends: collect its garbage and return freed memory to the OS, at once when
    # no call is live, else at most once per this many seconds; 0 = never (docs/scaling.md).
    memory_reclaim_interval_s: float = Field(default=60.0, ge=0)

    @field_validator("openai_realtime_url")
    @classmethod
    def _check_realtime_url(cls, value: str) -> str:
        return str(_require_scheme(value, ("ws", "wss"))).rstrip("/")

    @field_validator("public_url", "twilio_api_base_url", "summary_webhook_url")
    @classmethod
    def _check_http_url(cls, value: str | None) -> str | None:
        checked = _require_scheme(value, ("https", "http"))
        # Stored without a trailing slash so callers can append "/path" safely.
        return checked.rstrip("/") if checked else checked

    @field_validator("livekit_url")
    @classmethod
    def _check_livekit_url(cls, value: str | None) -> str | None:
        return _require_scheme(value, ("wss", "ws", "https", "http"))

    @field_validator("bot_profile", "company_name")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be empty")
        return value

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        try:
            logger.level(level)
        except ValueError:
            known = "TRACE, DEBUG, INFO, SUCCESS, WARNING, ERROR, CRITICAL"
            raise ValueError(f"unknown log level {value.strip()!r}; use one of {known}") from None
        return level

    @field_validator("prices_file")
    @classmethod
    def _check_prices_file(cls, value: Path | None) -> Path | None:
        # Fail at start-up rather than at the end of the first call when costs are computed.
        if value is not None and not value.is_file():
            raise ValueError(f"file not found: {value}")
        return value

    @field_validator("did_profiles")
    @classmethod
    def _check_did_profiles(cls, value: str | None) -> str | None:
        if value is not None:
            parse_did_profiles(value)
        return value

    def did_profile_map(self) -> dict[str, str]:
        """DID_PROFILES as {number dialled: profile name or path}."""
        return parse_did_profiles(self.did_profiles) if self.did_profiles else {}

    def summary_email_to_list(self) -> list[str]:
        """SUMMARY_EMAIL_TO is comma-separated."""
        return [a.strip() for a in (self.summary_email_to or "").split(",") if a.strip()]

    def realtime_resilience(self) -> RealtimeResilienceConfig:
        return RealtimeResilienceConfig(
            timeouts=RealtimeTimeouts(
                connect_s=self.realtime_connect_timeout_s,
                session_updated_s=self.realtime_session_updated_timeout_s,
                first_audio_s=self.realtime_first_audio_timeout_s,
                tool_s=self.realtime_tool_timeout_s,
            ),
            reconnect=ReconnectPolicy(
                max_attempts=self.realtime_reconnect_attempts,
                audio_buffer_s=self.realtime_audio_buffer_s,
            ),
            rollover=RolloverPolicy(
                enabled=self.realtime_rollover, lead_s=self.realtime_rollover_lead_s
            ),
        )

    def secret_values(self) -> list[str]:
        """All non-empty secret strings, e.g. to redact them from logs."""
        secrets: list[str] = []
        for field_name in type(self).model_fields:
            value = getattr(self, field_name)
            if isinstance(value, SecretStr):
                raw = value.get_secret_value()
                if raw:
                    secrets.append(raw)
        return secrets


def parse_did_profiles(text: str) -> dict[str, str]:
    """ "2001=sales, +15551230000=support" → {"2001": "sales", …}; raises ValueError."""
    mapping: dict[str, str] = {}
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        number, sep, profile = (part.strip() for part in entry.partition("="))
        digits = number.removeprefix("+")
        if not sep or not profile or not digits.isdigit() or len(digits) > 20:
            raise ValueError(f"entry {entry[:40]!r} is not NUMBER=PROFILE (e.g. 2001=sales)")
        if number in mapping:
            raise ValueError(f"number {number} is mapped twice")
        mapping[number] = profile
    return mapping


def _reason(error: dict[str, Any]) -> str:
    # Only pydantic's message is used, never error["input"], which may be a secret.
    message = str(error.get("msg", "invalid value"))
    return message.removeprefix("Value error, ")


def load_settings(**overrides: Any) -> Settings:
    """Read settings from env and ``.env``; keyword overrides beat both.

    Raises:
        ConfigError: naming the environment variable (e.g. ``OPENAI_REALTIME_URL``) and the reason.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        key = str(first["loc"][0]).upper() if first.get("loc") else "SETTINGS"
        reason = _reason(first)
        others = sorted({str(e["loc"][0]).upper() for e in errors[1:] if e.get("loc")} - {key})
        if others:
            reason += f" (also invalid: {', '.join(others)})"
        # `from None`: the chained ValidationError would print the raw (possibly secret) input.
        raise ConfigError(key, reason) from None
