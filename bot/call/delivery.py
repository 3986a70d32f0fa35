"""After-call delivery of summaries and transcripts: signed webhook and/or e-mail (SMTP).

Webhook: one JSON POST per request, signed with HMAC-SHA256 over the exact body bytes
using SUMMARY_WEBHOOK_SECRET; the hex digest is in the ``X-Signature-SHA256`` header
(``sha256=<hex>``). Verify with :func:`verify_signature`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import smtplib
from email.message import EmailMessage
from typing import Any

import aiohttp
from loguru import logger

from bot.call.record import CallRecord
from bot.config.delivery import DeliveryConfig
from processors.tools.base import AfterCallRequest

SIGNATURE_HEADER = "X-Signature-SHA256"
DELIVERY_TIMEOUT_S = 15.0


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> bool:
    return header is not None and hmac.compare_digest(sign(body, secret), header)


def payload(request: AfterCallRequest, record: CallRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": request.kind,
        "call_id": record.call_id,
        "transport": record.transport,
        "profile": record.profile,
        "caller_number": record.caller_number,
        "caller_name": record.caller_name,
        "called_number": record.called_number,
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "duration_s": record.duration_s,
        "end_reason": record.end_reason,
    }
    if request.kind == "call_summary":
        data["summary"] = request.summary
        data["tool_calls"] = [t.name for t in record.tool_calls]
    else:
        data["transcript"] = [t.model_dump() for t in record.transcript]
    return data


def email_text(data: dict[str, Any]) -> str:
    head = (
        f"Call {data['call_id']} from {data['caller_number'] or 'unknown number'} "
        f"({data['started_at']} to {data['ended_at']}, ended: {data['end_reason']})\n\n"
    )
    if data["kind"] == "call_summary":
        return head + data["summary"] + "\n"
    lines = [f"{t['role']}: {t['text']}" for t in data["transcript"]]
    return head + "\n".join(lines) + "\n"


async def post_webhook(config: DeliveryConfig, data: dict[str, Any]) -> None:
    assert config.webhook_url and config.webhook_secret
    body = json.dumps(data, ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: sign(body, config.webhook_secret),
    }
    timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        async with session.post(config.webhook_url, data=body, headers=headers) as response:
            if response.status >= 300:
                raise RuntimeError(f"webhook answered {response.status}")


def _send_email(config: DeliveryConfig, data: dict[str, Any]) -> None:
    message = EmailMessage()
    what = "Call summary" if data["kind"] == "call_summary" else "Call transcript"
    message["Subject"] = f"{what}: {data['caller_number'] or data['call_id']}"
    message["From"] = config.email_from or f"bot@{config.smtp_host}"
    message["To"] = ", ".join(config.email_to)
    message.set_content(email_text(data))
    assert config.smtp_host
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=DELIVERY_TIMEOUT_S) as smtp:
        if config.smtp_starttls:
            smtp.starttls()
        if config.smtp_username and config.smtp_password:
            smtp.login(config.smtp_username, config.smtp_password)
        smtp.send_message(message)


async def deliver(
    requests: list[AfterCallRequest], record: CallRecord, config: DeliveryConfig
) -> list[str]:
    """Deliver every request everywhere configured. Returns one line per failure."""
    failures: list[str] = []
    for request in requests:
        data = payload(request, record)
        channels = []
        if config.webhook_url:
            channels.append(("webhook", post_webhook(config, data)))
        if config.email_enabled:
            channels.append(("email", asyncio.to_thread(_send_email, config, data)))
        for channel, job in channels:
            try:
                await asyncio.wait_for(job, DELIVERY_TIMEOUT_S + 5)
                logger.info(f"call {record.call_id}: {request.kind} delivered by {channel}")
            except Exception as exc:
                message = f"{request.kind} {channel} delivery failed: {type(exc).__name__}: {exc}"
                logger.error(f"call {record.call_id}: {message}")
                failures.append(message)
    return failures
