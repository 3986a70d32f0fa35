"""The AudioSocket listener: Asterisk's `AudioSocket()` (or `Dial(AudioSocket/…)`) connects
here over TCP, one connection per call.

The first message must be the call's UUID, and the caller's first audio fixes the line's
rate (0x10 = 8 kHz for AudioSocket(), 0x12 = 16 kHz with `c(slin16)`, …): the pipeline is
built at that rate and the bot answers in the same kind. The caller's number, name and DID
come from a FastAGI `register` for that UUID, if the dialplan made one.

A connection that does not start like a call (audio before the UUID, an unknown kind, a
zero-length message, no audio within the handshake timeout) is closed with one log line
naming why; it never becomes a call, so it leaves no record. Once a call runs, a protocol
violation ends that call only, with `protocol error: …` in its record.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from loguru import logger

from bot.asterisk.calls import CallDirectory, call_key
from bot.config.caller_info import CallerInfo
from bot.telephony.line_call import LineCall
from pipelines.call_control.asterisk import AsteriskCallControl
from pipelines.transports.asterisk.audiosocket import (
    AUDIO_KIND_RATES,
    KIND_HANGUP,
    KIND_UUID,
    call_uuid,
    check_kind,
    read_message,
)
from pipelines.transports.asterisk.codecs import LineCodec, slin_codec
from pipelines.transports.asterisk.control import AsteriskProtocolError
from pipelines.transports.asterisk.transport import create_audiosocket_line

if TYPE_CHECKING:
    from bot.telephony.server import TelephonyServer

AUDIOSOCKET_PORT = 9092
HANDSHAKE_TIMEOUT_S = 10.0
# Messages (DTMF, silence) accepted before the first audio fixes the rate.
MAX_EARLY_MESSAGES = 50


class CallerGone(Exception):
    """The connection closed (or sent 0x00) before the call started."""


async def read_start(reader: asyncio.StreamReader) -> tuple[str, LineCodec, list[bytes]]:
    """The UUID, the line's codec, and the messages read so far (for the pipeline)."""
    try:
        uuid = call_uuid(await read_message(reader))
        early: list[bytes] = []
        while len(early) < MAX_EARLY_MESSAGES:
            message = await read_message(reader)
            kind = message[0]
            check_kind(kind, message[1:])
            early.append(message)
            if kind in AUDIO_KIND_RATES:
                return uuid, slin_codec(AUDIO_KIND_RATES[kind]), early
            if kind == KIND_UUID:
                raise AsteriskProtocolError("a second UUID")
            if kind == KIND_HANGUP:
                raise CallerGone()
        raise AsteriskProtocolError(f"no audio in the first {MAX_EARLY_MESSAGES} messages")
    except asyncio.IncompleteReadError:
        raise CallerGone() from None


class AudioSocketListener:
    def __init__(
        self, server: TelephonyServer, directory: CallDirectory, host: str, port: int
    ) -> None:
        self._server = server
        self._directory = directory
        self.host, self.port = host, port
        self._listener: asyncio.Server | None = None

    async def start(self) -> None:
        self._listener = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._listener.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
            await self._listener.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer = writer.get_extra_info("peername")
        try:
            with self._server.admit() as refusal:
                if refusal is not None:
                    logger.warning(f"refusing an AudioSocket call from {peer}: {refusal}")
                    return
                try:
                    async with asyncio.timeout(HANDSHAKE_TIMEOUT_S):
                        uuid, codec, early = await read_start(reader)
                except (AsteriskProtocolError, TimeoutError) as e:
                    reason = str(e) or f"no call start within {HANDSHAKE_TIMEOUT_S:g} s"
                    logger.warning(f"refusing an AudioSocket call from {peer}: {reason}")
                    return
                except CallerGone:
                    logger.info(f"AudioSocket connection from {peer} closed before its call")
                    return
                await self._run(uuid, codec, early, reader, writer)
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _run(
        self,
        uuid: str,
        codec: LineCodec,
        early: list[bytes],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        server, settings = self._server, self._server.config.settings
        keys = [k for k in (call_key(uuid),) if k]
        registered = self._directory.take_registration(keys)
        if registered is None:
            logger.info(f"audiosocket {uuid}: no FastAGI register for this UUID; caller unknown")
        caller = registered or CallerInfo()
        outcome = self._directory.call_started(uuid, keys)
        bundle = server.config.bundle_for(caller.called_number)
        line = create_audiosocket_line(
            reader, writer, codec, pending=early, in_batch_ms=settings.audio_in_batch_ms
        )
        control = AsteriskCallControl(
            provider="audiosocket",
            call_id=uuid,
            leg=line,
            hangup_timeout_s=bundle.profile.tool_settings.hangup_timeout_s,
            on_handoff=outcome.hand_off,
        )

        async def close() -> None:
            writer.close()

        logger.info(f"audiosocket {uuid}: {codec.name} at {codec.sample_rate} Hz")
        try:
            await server.run_line_call(
                LineCall(
                    call_id=uuid,
                    transport_name="audiosocket",
                    transport=line.transport,
                    guard=line.serializer,
                    control=control,
                    caller=caller,
                    bundle=bundle,
                    close=close,
                    sample_rate=codec.sample_rate,
                    g711=codec.session_g711 or "pcmu",
                )
            )
        finally:
            outcome.finished.set()
