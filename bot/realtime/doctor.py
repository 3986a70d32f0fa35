"""``python runner.py check``: is the Realtime API reachable, and if not, why?

Walks the connection one layer at a time — DNS, TCP, TLS, WebSocket upgrade,
session.created, a session.update round-trip, a tiny spoken response — printing one line
per step with its time, and stops at the first failure with a one-line cause (wrong key,
no Realtime access, unknown model, where it hung, DNS or TLS failure).
"""

import argparse
import asyncio
import json
import socket
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from bot.config.errors import ConfigError
from bot.config.profiles import load_profile
from bot.config.settings import load_settings
from pipelines.realtime.errors import classify_error, classify_http_status

DEFAULT_STEP_TIMEOUT_S = 5.0


class CheckFailed(Exception):
    """A step failed; the message is the one-line cause."""


@dataclass
class CheckTarget:
    url: str  # base URL, e.g. wss://api.openai.com/v1/realtime
    api_key: str
    model: str
    timeout_s: float = DEFAULT_STEP_TIMEOUT_S


class Doctor:
    def __init__(self, target: CheckTarget, out: Callable[[str], None] = print):
        self.target = target
        self.out = out
        parts = urlsplit(target.url)
        if parts.scheme not in ("ws", "wss") or not parts.hostname:
            raise CheckFailed(f"URL: {target.url!r} is not a ws:// or wss:// URL")
        self.host = parts.hostname
        self.tls = parts.scheme == "wss"
        self.port = parts.port or (443 if self.tls else 80)
        self.ws: ClientConnection | None = None
        self._waiting = "an answer"

    async def _step(self, name: str, action: Awaitable[str]) -> None:
        started = time.monotonic()
        try:
            detail = await asyncio.wait_for(action, self.target.timeout_s)
        except TimeoutError:
            cause = f"{name}: hung {self.target.timeout_s:g}s waiting for {self._waiting}"
            self._line("FAIL", name, started, cause)
            raise CheckFailed(cause) from None
        except CheckFailed as e:
            self._line("FAIL", name, started, str(e))
            raise
        self._line("ok", name, started, detail)

    def _line(self, status: str, name: str, started: float, detail: str) -> None:
        ms = (time.monotonic() - started) * 1000
        self.out(f"{status:>4}  {name:<16} {ms:7.0f} ms  {detail}")

    async def run(self) -> None:
        try:
            await self._step("DNS", self._dns())
            await self._step("TCP connect", self._tcp())
            if self.tls:
                await self._step("TLS", self._tls())
            await self._step("WebSocket", self._upgrade())
            await self._step("session.created", self._expect("session.created"))
            await self._step("session.update", self._session_update())
            await self._step("response", self._tiny_response())
        finally:
            if self.ws is not None:
                await self.ws.close()

    async def _dns(self) -> str:
        self._waiting = "the DNS answer"
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as e:
            raise CheckFailed(f"DNS: cannot resolve {self.host} ({e.strerror})") from None
        self.addresses = sorted({info[4][0] for info in infos})
        return f"{self.host} → {', '.join(self.addresses[:3])}"

    async def _tcp(self) -> str:
        self._waiting = "the TCP handshake"
        try:
            _reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as e:
            raise CheckFailed(f"TCP: cannot connect to {self.host}:{self.port} ({e})") from None
        self._writer = writer
        if not self.tls:
            writer.close()
        return f"{self.host}:{self.port}"

    async def _tls(self) -> str:
        self._waiting = "the TLS handshake"
        writer = self._writer
        try:
            await writer.start_tls(ssl.create_default_context(), server_hostname=self.host)
        except (ssl.SSLError, OSError) as e:
            reason = getattr(e, "reason", None) or str(e) or type(e).__name__
            hint = "" if isinstance(e, ssl.SSLError) else "; is this a plain ws:// port?"
            raise CheckFailed(
                f"TLS: handshake with {self.host}:{self.port} failed ({reason}{hint})"
            ) from None
        finally:
            writer.close()
        tls = writer.get_extra_info("ssl_object")
        return f"{tls.version()} {tls.cipher()[0]}" if tls else "ok"

    async def _upgrade(self) -> str:
        url = f"{self.target.url}?model={self.target.model}"
        self._waiting = "the HTTP 101 upgrade"
        try:
            self.ws = await connect(
                url, additional_headers={"Authorization": f"Bearer {self.target.api_key}"}
            )
        except InvalidStatus as e:
            raise CheckFailed(classify_http_status(e.response.status_code).cause) from None
        except (OSError, InvalidHandshake) as e:
            raise CheckFailed(f"WebSocket upgrade failed: {type(e).__name__}: {e}") from None
        return f"HTTP 101, model {self.target.model}"

    async def _send(self, event: dict[str, Any], during: str) -> None:
        """Send one client event; a socket that drops under it is a cause, not a traceback."""
        assert self.ws is not None
        self._waiting = during
        try:
            await self.ws.send(json.dumps(event))
        except ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else 1006
            # The server may have said why before it closed (session_expired, ...): that, not
            # the close, is the cause.
            await self._raise_buffered_error()
            raise CheckFailed(f"connection closed (code {code}) while sending {during}") from None

    async def _raise_buffered_error(self) -> None:
        """Raise the cause of an `error` event received before the socket closed, if any."""
        assert self.ws is not None
        while True:
            try:
                event = json.loads(await self.ws.recv())
            except ConnectionClosed:
                return
            if event.get("type") == "error":
                err = event.get("error") or {}
                verdict = classify_error(err.get("code"), err.get("type"), err.get("message", ""))
                raise CheckFailed(verdict.cause)

    async def _next(self, wanted: str | tuple[str, ...], during: str) -> dict[str, Any]:
        assert self.ws is not None
        self._waiting = during
        while True:
            try:
                event = json.loads(await self.ws.recv())
            except ConnectionClosed as e:
                code = e.rcvd.code if e.rcvd else 1006
                raise CheckFailed(
                    f"connection closed (code {code}) while waiting for {during}"
                ) from None
            if event.get("type") == "error":
                err = event.get("error") or {}
                verdict = classify_error(err.get("code"), err.get("type"), err.get("message", ""))
                raise CheckFailed(verdict.cause)
            if event.get("type") in ((wanted,) if isinstance(wanted, str) else wanted):
                return event

    async def _expect(self, wanted: str) -> str:
        event = await self._next(wanted, wanted)
        session = event.get("session") or {}
        expires = session.get("expires_at")
        left = f", expires in {expires - time.time():.0f}s" if expires else ""
        return f"session {session.get('id', '?')}{left}"

    async def _session_update(self) -> str:
        update = {"type": "realtime", "instructions": "Reply with one short word."}
        await self._send({"type": "session.update", "session": update}, "session.update")
        await self._next("session.updated", "session.updated")
        return "config accepted"

    async def _tiny_response(self) -> str:
        started = time.monotonic()
        request = {"instructions": "Say: OK.", "max_output_tokens": 64}
        await self._send({"type": "response.create", "response": request}, "response.create")
        # A refused response (rate limit, quota) ends with a failed response.done and no audio.
        first = await self._next(
            ("response.output_audio.delta", "response.done"), "the first audio of a response"
        )
        first_audio_ms = (time.monotonic() - started) * 1000
        done = first if first["type"] == "response.done" else None
        done = done or await self._next("response.done", "response.done")
        response = done.get("response") or {}
        if response.get("status") == "failed":
            err = (response.get("status_details") or {}).get("error") or {}
            verdict = classify_error(err.get("code"), err.get("type"), err.get("message", ""))
            raise CheckFailed(f"response failed: {verdict.cause}")
        return f"first audio after {first_audio_ms:.0f} ms, status {response.get('status')}"


async def run_check(target: CheckTarget, out: Callable[[str], None] = print) -> str | None:
    """Run every step; returns None when all passed, else the one-line cause."""
    try:
        await Doctor(target, out).run()
    except CheckFailed as e:
        return str(e)
    return None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runner.py check", description="Check the connection to the OpenAI Realtime API."
    )
    parser.add_argument("--realtime-url", help="Realtime base URL (env OPENAI_REALTIME_URL)")
    parser.add_argument("--profile", help="profile whose model is checked (env BOT_PROFILE)")
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_STEP_TIMEOUT_S, help="seconds per step"
    )
    return parser


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    try:
        overrides = {"openai_realtime_url": args.realtime_url} if args.realtime_url else {}
        settings = load_settings(**overrides)
        profile = load_profile(args.profile or settings.bot_profile)
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    if settings.openai_api_key is None:
        print("check failed: OPENAI_API_KEY is not set", file=sys.stderr)
        return 1
    target = CheckTarget(
        url=settings.openai_realtime_url,
        api_key=settings.openai_api_key.get_secret_value(),
        model=profile.model,
        timeout_s=args.timeout,
    )
    print(f"checking {target.url} (model {target.model})")
    cause = asyncio.run(run_check(target, lambda line: print(line, flush=True)))
    if cause is not None:
        print(f"check failed: {cause}")
        return 1
    print("check passed: the Realtime API answers")
    return 0
