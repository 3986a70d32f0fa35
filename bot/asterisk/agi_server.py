"""The bot's FastAGI server: the dialplan's two questions around an Asterisk call.

    same => n,AGI(agi://127.0.0.1:4573/register,${AI_UUID})  ; who is calling (AudioSocket)
    same => n,AudioSocket(${AI_UUID},127.0.0.1:9092)          ; or Dial(WebSocket/…,g)
    same => n,AGI(agi://127.0.0.1:4573/after,${AI_UUID})     ; where the caller goes next

`register` takes the caller's number, name and DID from the AGI environment (setup_env() in
res_agi.c: agi_callerid, agi_calleridname, agi_dnid) and keeps them, sanitised, for the call
with that UUID. `after` answers with channel variables the dialplan branches on:

    AI_ACTION  transfer | voicemail | hangup | unknown | refused | error
    AI_TARGET  the extension / queue / ring group, or the mailbox (box@context)
    AI_ERROR   one line, when AI_ACTION is unknown, refused or error

Asterisk waits for a FastAGI server with no timeout at all (run_agi), so every session here
has a deadline, `after` waits at most AFTER_WAIT_S for a call still finishing, and an
unknown id gets `AI_ACTION=unknown` at once. It listens on 127.0.0.1 unless told otherwise,
and with ASTERISK_AGI_SECRET set, a request must carry the secret as its second argument.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from dataclasses import dataclass

from loguru import logger

from bot.asterisk.calls import CallDirectory, call_key
from bot.config.caller_info import CallerInfo

AGI_PORT = 4573
SESSION_TIMEOUT_S = 5.0
AFTER_WAIT_S = 2.0
MAX_ENV_LINES = 200
LINE_LIMIT = 4096


class AgiError(Exception):
    """The peer did not speak AGI; the message is the logged reason."""


@dataclass(frozen=True)
class AgiRequest:
    script: str
    args: list[str]
    env: dict[str, str]

    def value(self, key: str) -> str:
        """An environment value, with Asterisk's "unknown" for an absent one made empty."""
        value = self.env.get(key, "")
        return "" if value == "unknown" else value


def quote(value: str) -> str:
    """One AGI argument: res_agi's parse_args groups on quotes and unescapes backslashes."""
    text = "".join(ch for ch in value if ch.isprintable())[:200]
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def read_request(reader: asyncio.StreamReader) -> AgiRequest:
    env: dict[str, str] = {}
    for _ in range(MAX_ENV_LINES):
        line = (await reader.readline()).decode("utf-8", errors="replace")
        if not line:
            raise AgiError("closed before the end of the AGI environment")
        if line in ("\n", "\r\n"):
            break
        key, sep, value = line.rstrip("\r\n").partition(": ")
        if not sep or not key.startswith("agi_"):
            raise AgiError(f"not an AGI environment line: {line[:40]!r}")
        env[key] = value
    else:
        raise AgiError(f"AGI environment longer than {MAX_ENV_LINES} lines")
    script = env.get("agi_network_script", "").split("?", 1)[0].strip("/")
    args, i = [], 1
    while f"agi_arg_{i}" in env:
        args.append(env[f"agi_arg_{i}"])
        i += 1
    return AgiRequest(script, args, env)


class AgiSession:
    """Commands to the dialplan, one answer line each."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    async def command(self, text: str) -> str:
        self._writer.write(text.encode() + b"\n")
        await self._writer.drain()
        while True:
            line = (await self._reader.readline()).decode("utf-8", errors="replace")
            if not line:
                raise AgiError(f"closed while answering {text.split(' ', 2)[:2]}")
            line = line.rstrip("\r\n")
            # "HANGUP" on its own is AGISIGHUP telling us the channel hung up; a 520- usage
            # block runs until its "520 " line. Neither is the answer itself.
            if line == "HANGUP" or line.startswith("520-") or not line[:3].isdigit():
                continue
            return line

    async def set_variable(self, name: str, value: str) -> str:
        return await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def answer(self, action: str, target: str = "", error: str = "") -> None:
        await self.set_variable("AI_ACTION", action)
        if target:
            await self.set_variable("AI_TARGET", target)
        if error:
            await self.set_variable("AI_ERROR", error)
            await self.command(f"VERBOSE {quote('ai-bot: ' + error)} 1")


class AgiServer:
    def __init__(
        self,
        directory: CallDirectory,
        *,
        host: str = "127.0.0.1",
        port: int = AGI_PORT,
        secret: str | None = None,
        after_wait_s: float = AFTER_WAIT_S,
        session_timeout_s: float = SESSION_TIMEOUT_S,
    ) -> None:
        self._directory = directory
        self.host, self.port = host, port
        self._secret = secret
        self._after_wait_s = after_wait_s
        self._session_timeout_s = session_timeout_s
        self._server: asyncio.Server | None = None

    @property
    def requires_secret(self) -> bool:
        return self._secret is not None

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, self.host, self.port, limit=LINE_LIMIT
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self._session_timeout_s):
                request = await read_request(reader)
                await self._dispatch(request, AgiSession(reader, writer))
        except TimeoutError:
            limit = self._session_timeout_s
            logger.warning(f"FastAGI: session still open after {limit:g}s; closed")
        except (AgiError, ValueError, ConnectionError, asyncio.IncompleteReadError) as e:
            logger.warning(f"FastAGI: {type(e).__name__}: {e}")
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _dispatch(self, request: AgiRequest, session: AgiSession) -> None:
        if self._secret is not None:
            given = request.args[1] if len(request.args) > 1 else ""
            if not hmac.compare_digest(given.encode(), self._secret.encode()):
                logger.warning(f"FastAGI: {request.script!r} refused: wrong or missing secret")
                await session.answer("refused", error="wrong or missing secret")
                return
        key = call_key(request.args[0]) if request.args else None
        if request.script not in ("register", "after"):
            await session.answer("error", error=f"unknown request {request.script[:40]!r}")
            return
        if key is None:
            await session.answer("error", error=f"{request.script} needs the call id argument")
            return
        if request.script == "register":
            await self._register(key, request, session)
        else:
            await self._after(key, session)

    async def _register(self, key: str, request: AgiRequest, session: AgiSession) -> None:
        caller = CallerInfo.from_untrusted(
            number=request.value("agi_callerid"),
            name=request.value("agi_calleridname"),
            called_number=request.value("agi_dnid") or request.value("agi_extension"),
        )
        self._directory.register(key, caller)
        logger.info(f"FastAGI register {key}: caller {caller.number or '(none)'}")
        await session.set_variable("AI_REGISTERED", "1")

    async def _after(self, key: str, session: AgiSession) -> None:
        outcome = await self._directory.outcome(key, self._after_wait_s)
        if outcome is None:
            logger.info(f"FastAGI after {key}: no such call")
            await session.answer("unknown", error=f"no call with id {key}")
        elif outcome.handoff is None:
            await session.answer("hangup")
        else:
            handoff = outcome.handoff
            logger.info(f"FastAGI after {key}: {handoff.kind} to {handoff.target}")
            await session.answer(handoff.kind, target=handoff.target)
