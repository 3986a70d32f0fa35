"""WebSocket server: accepts connections, checks path/model/auth, runs one session each."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

from loguru import logger
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from sim.realtime.config import EmulatorConfig
from sim.realtime.faults import Faults
from sim.realtime.schema import error, rate_limit_error
from sim.realtime.session import EmulatedSession

PATH = "/v1/realtime"
CLOSE_INVALID_REQUEST = 3000
CLOSE_GOING_AWAY = 1001
CLOSE_TRY_AGAIN_LATER = 1013


class RealtimeEmulator:
    """Wire-level emulator of the OpenAI Realtime API (GA protocol) over WebSocket."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.sessions: list[EmulatedSession] = []
        # Connection indexes whose upgrade was refused with an HTTP status (Faults.http_status).
        self.refused_upgrades: list[int] = []
        self._arrivals = 0
        self._index_of: dict[int, int] = {}  # id(connection) → its connection index
        self._server: Server | None = None
        self._host = "127.0.0.1"
        self._port = 0

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"ws://{self._host}:{self._port}{PATH}"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> RealtimeEmulator:
        self._server = await serve(
            self._handle,
            host,
            port,
            process_request=self._process_request,
            max_size=16 * 1024 * 1024,
            ping_interval=None,
        )
        sock = next(iter(self._server.sockets))
        self._host, self._port = host, sock.getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> RealtimeEmulator:
        if self._server is None:
            await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        if urlsplit(request.path).path.rstrip("/") != PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not found\n")
        index, self._arrivals = self._arrivals, self._arrivals + 1
        faults = self.config.faults_for(index)
        if faults.http_status is not None:
            self.refused_upgrades.append(index)
            logger.info(f"realtime emulator: connection #{index} refused: {faults.http_status}")
            return self._refusal(connection, request, faults)
        self._index_of[id(connection)] = index
        return None

    @staticmethod
    def _refusal(connection: ServerConnection, request: Request, faults: Faults) -> Response:
        """The API's plain-HTTP refusal of an upgrade: its JSON error body, and on a 429 the
        headers that say when to come back."""
        status = HTTPStatus(faults.http_status)
        if status is HTTPStatus.TOO_MANY_REQUESTS:
            model = (parse_qs(urlsplit(request.path).query).get("model") or [""])[0]
            body = rate_limit_error(model, faults.retry_after_s)
        else:
            body = error(None, status.phrase, etype="server_error")
        response = connection.respond(status, json.dumps({"error": body}) + "\n")
        response.headers["Content-Type"] = "application/json"
        if faults.retry_after_s is not None:
            response.headers["Retry-After"] = str(max(1, round(faults.retry_after_s)))
            response.headers["retry-after-ms"] = str(round(faults.retry_after_s * 1000))
        return response

    async def _handle(self, ws: ServerConnection) -> None:
        index = self._index_of.pop(id(ws), len(self.sessions))
        faults = self.config.faults_for(index)
        query = parse_qs(urlsplit(ws.request.path).query)
        model = (query.get("model") or [""])[0]
        transcription = (query.get("intent") or [""])[0] == "transcription" and not model
        session = EmulatedSession(index, model, self.config, faults, ws, transcription)
        self.sessions.append(session)
        peer = ws.remote_address
        timers: list[asyncio.Task] = []
        try:
            rejection = self._check(ws, model, faults, transcription)
            if rejection is not None:
                logger.info(
                    f"realtime emulator: connection #{index} from {peer} rejected: "
                    f"{rejection['code']}"
                )
                await session.send_error(rejection)
                await self._close(session, CLOSE_INVALID_REQUEST, rejection["message"][:120])
                return
            if faults.rate_limited:
                # Over the account's limit: refused before a session exists.
                logger.info(f"realtime emulator: connection #{index} rate limited (fault)")
                await session.send_error(rate_limit_error(model, faults.retry_after_s))
                await self._close(session, CLOSE_TRY_AGAIN_LATER, "rate limit exceeded")
                return
            logger.info(
                f"realtime emulator: connection #{index} from {peer} "
                f"model={model} session={session.id}"
            )
            await session.send("session.created", session=session.config)
            if faults.drop_after_s is not None:
                timers.append(asyncio.create_task(self._drop_later(session, faults.drop_after_s)))
            expire = min(self.config.session_cap_s, faults.session_expired_after_s or float("inf"))
            timers.append(asyncio.create_task(self._expire_later(session, expire)))
            async for message in ws:
                try:
                    await session.handle_message(message)
                except ConnectionClosed:
                    raise
                except Exception as exc:
                    logger.exception(f"realtime emulator: session {session.id} failed: {exc}")
                    await self._close(session, 1011, "internal emulator error")
                    return
        except ConnectionClosed:
            pass
        finally:
            for timer in timers:
                timer.cancel()
            await session.shutdown()
            if session.close_code is None:
                session.close_code = ws.close_code
            session.closed = True
            session.closed_at = time.time()
            logger.info(
                f"realtime emulator: connection #{index} closed (code={session.close_code})"
            )

    def _check(
        self, ws: ServerConnection, model: str, faults: Faults, transcription: bool
    ) -> dict | None:
        auth = ws.request.headers.get("Authorization", "")
        key = auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None
        if faults.bad_key or (self.config.api_key is not None and key != self.config.api_key):
            shown = (key[:3] + "*" * 4 + key[-4:]) if key and len(key) > 8 else (key or "")
            return error(
                "invalid_api_key",
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
            )
        if faults.model_not_found or not (transcription or self.config.accepts_model(model)):
            return error(
                "model_not_found",
                f"The model '{model}' does not exist or you do not have access to it.",
                "model",
            )
        return None

    @staticmethod
    async def _close(session: EmulatedSession, code: int, reason: str) -> None:
        session.close_code = code
        session.closed = True
        with contextlib.suppress(Exception):
            await session.ws.close(code, reason)

    async def _drop_later(self, session: EmulatedSession, delay: float) -> None:
        await asyncio.sleep(delay)
        self.drop(session.index)

    def drop(self, index: int) -> None:
        """Abort connection ``index`` (no close frame), as a network failure would; tests
        call it to make a client reconnect at a moment of their choosing."""
        session = next(s for s in self.sessions if s.index == index)
        logger.info(f"realtime emulator: dropping connection #{index} (fault)")
        session.close_code = 1006
        session.closed = True
        session.ws.transport.abort()

    async def _expire_later(self, session: EmulatedSession, delay: float) -> None:
        if delay == float("inf"):
            return
        await asyncio.sleep(delay)
        minutes = round(self.config.session_cap_s / 60)
        with contextlib.suppress(Exception):
            await session.send_error(
                error(
                    "session_expired",
                    f"Your session hit the maximum duration of {minutes} minutes.",
                )
            )
        await self._close(session, CLOSE_GOING_AWAY, "session expired")
