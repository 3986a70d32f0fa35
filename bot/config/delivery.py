"""Where after-call summaries and transcripts go (webhook and/or e-mail), from the settings.

The sending itself is `bot/call/delivery.py`; this is the checked configuration the tools that
deliver after the call read at start-up.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.config.errors import ConfigError
from bot.config.settings import Settings


class DeliveryConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    webhook_url: str | None = None
    webhook_secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    email_from: str | None = None
    email_to: list[str] = []

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryConfig:
        def secret(value: Any) -> str | None:
            return value.get_secret_value() if value is not None else None

        return cls(
            webhook_url=settings.summary_webhook_url,
            webhook_secret=secret(settings.summary_webhook_secret),
            smtp_host=settings.smtp_host,
            smtp_port=settings.smtp_port,
            smtp_username=settings.smtp_username,
            smtp_password=secret(settings.smtp_password),
            smtp_starttls=settings.smtp_starttls,
            email_from=settings.summary_email_from,
            email_to=settings.summary_email_to_list(),
        )

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.email_to)

    def require_destination(self, tool: str) -> None:
        """Start-up check for the tools that deliver after the call."""
        if self.webhook_url and not self.webhook_secret:
            raise ConfigError("SUMMARY_WEBHOOK_SECRET", "required when SUMMARY_WEBHOOK_URL is set")
        if self.smtp_host and not self.email_to:
            raise ConfigError("SUMMARY_EMAIL_TO", "required when SMTP_HOST is set")
        if not (self.webhook_url or self.email_enabled):
            raise ValueError(
                f"{tool} needs a destination: set SUMMARY_WEBHOOK_URL (+ SUMMARY_WEBHOOK_SECRET) "
                "and/or SMTP_HOST + SUMMARY_EMAIL_TO"
            )
