"""AudioSocket, Asterisk's side: Asterisk connects to the bot over TCP and bridges a caller.

Read in include/asterisk/res_audiosocket.h, res/res_audiosocket.c, apps/app_audiosocket.c
and channels/chan_audiosocket.c (asterisk/asterisk master, Aug 2026; AudioSocket since 18):

* Framing: 1 kind byte, a 2-byte big-endian payload length, the payload. Kinds: 0x00
  hangup, 0x01 UUID (16 raw bytes; sent first by ast_audiosocket_init()), 0x03 DTMF (one
  ASCII byte; Asterisk → server since 20.14/22.4), 0x10 slin 8 kHz, 0x11 slin12, 0x12
  slin16, 0x13 slin24, 0x14 slin32, 0x15 slin44 (44.1 kHz), 0x16 slin48, 0x17 slin96,
  0x18 slin192 (0x11-0x18 since 20.17/22.7/23.1), 0xff error. Audio is host-endian
  (little-endian) 16-bit PCM. The AudioSocket() application always uses 8 kHz slin; other
  rates need the channel driver (Dial(AudioSocket/host:port/uuid/c(slin16))).
* Asterisk → server: the UUID, then every voice frame of the caller as it comes (20 ms),
  DTMF frames as 0x03. It never sends 0x00: on the caller's hang-up it just closes the
  socket (audiosocket_run returns, close(s); audiosocket_hangup → close()).
* Server → Asterisk (ast_audiosocket_receive_frame_with_hangup): 0x00 or a closed socket
  is a hang-up; 0x10-0x18 audio is written to the caller at once (ast_write) — Asterisk
  does not pace it, so audio sent faster than real time piles up in the caller's jitter
  buffer. Any other kind ("message other than hangup or audio") or an audio message of
  length 0 is an error that ends the AudioSocket session.

The caller here plays what arrives at real time (an ideal jitter buffer) and measures how
many 20 ms frames ahead of real time it arrived: a bot must pace its audio itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import struct
import time
import uuid as uuidlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sim.asterisk.line import CallEnded, CallerLine
from sim.asterisk.result import AsteriskCallResult
from sim.phone.audio import pcm16_decode, resample
from sim.phone.playout import PlayoutBuffer
from sim.phone.steps import EchoPath, Step

KIND_HANGUP = 0x00
KIND_UUID = 0x01
KIND_DTMF = 0x03
KIND_ERROR = 0xFF
AUDIO_KIND_RATES = {
    0x10: 8000,
    0x11: 12000,
    0x12: 16000,
    0x13: 24000,
    0x14: 32000,
    0x15: 44100,
    0x16: 48000,
    0x17: 96000,
    0x18: 192000,
}
RATE_AUDIO_KINDS = {rate: kind for kind, rate in AUDIO_KIND_RATES.items()}
CONNECT_TIMEOUT_S = 2.0  # MAX_CONNECT_TIMEOUT_MSEC in res_audiosocket.c


def message(kind: int, payload: bytes) -> bytes:
    """One AudioSocket message."""
    return struct.pack(">BH", kind, len(payload)) + payload


class AudioSocketCall:
    """One call Asterisk bridges to the bot over AudioSocket. ``await run()``."""

    def __init__(
        self,
        host: str,
        port: int,
        steps: Sequence[Step] = (),
        rate: int = 8000,
        call_uuid: str | None = None,
        channel_id: str | None = None,
        wait_for_greeting_s: float | None = 10.0,
        echo: EchoPath | None = None,
        record_path: str | Path | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
    ) -> None:
        if rate not in RATE_AUDIO_KINDS:
            raise ValueError(f"rate must be one of {sorted(RATE_AUDIO_KINDS)}")
        self.host = host
        self.port = port
        self.steps = list(steps)
        self.rate = rate
        self.uuid = str(uuidlib.UUID(call_uuid)) if call_uuid else str(uuidlib.uuid4())
        self.channel_id = channel_id or f"{int(time.time())}.1"
        self.wait_for_greeting_s = wait_for_greeting_s
        self.echo = echo
        self.record_path = Path(record_path) if record_path else None
        self.connect_timeout_s = connect_timeout_s

    async def run(self) -> AsteriskCallResult:
        """Connect, run the script, hang up; never raises for network trouble."""
        result = AsteriskCallResult(
            provider="asterisk",
            transport="audiosocket",
            codec=f"slin{'' if self.rate == 8000 else self.rate // 1000}",
            call_sid=self.channel_id,
            stream_sid=self.uuid,
            max_lead_frames=0,
        )
        session = _AudioSocketSession(self, result)  # loads the clips before dialling
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.connect_timeout_s
            )
        except (OSError, TimeoutError) as exc:
            result.errors.append(f"connect failed: {type(exc).__name__}: {exc}")
            return result
        result.connected = True
        result.answered = True  # AudioSocket() requires an answered channel
        await session.run(reader, writer)
        return result


class _AudioSocketSession(CallerLine):
    def __init__(self, call: AudioSocketCall, result: AsteriskCallResult) -> None:
        super().__init__(
            result, call.rate, call.steps, call.wait_for_greeting_s, call.echo, call.record_path
        )
        self.call = call
        self.kind = RATE_AUDIO_KINDS[call.rate]
        self.playout = PlayoutBuffer()
        self.writer: asyncio.StreamWriter | None = None

    async def run(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.t0 = time.monotonic()  # result times count from the UUID message
        self.result.started_at_unix = time.time()
        receiver = asyncio.create_task(self.receive(reader))
        try:
            await self.write(message(KIND_UUID, uuidlib.UUID(self.call.uuid).bytes))
            self.start_clock()
            await self.run_script()
        except CallEnded:
            pass
        finally:
            if self.result.closed_by is None:
                self.result.closed_by = "caller"
            self.ended = True
            writer.close()  # Asterisk sends no 0x00: it closes the socket
            with contextlib.suppress(OSError):
                await writer.wait_closed()
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await receiver
            self.finish()

    async def write(self, data: bytes) -> None:
        assert self.writer is not None
        try:
            self.writer.write(data)
            await self.writer.drain()
        except OSError as exc:
            self.ended = True
            raise CallEnded from exc

    # -- CallerLine hooks -----------------------------------------------------------------

    async def send_frame(self, samples: np.ndarray) -> None:
        await self.write(message(self.kind, samples.astype("<i2").tobytes()))

    async def send_dtmf(self, digit: str) -> None:
        await self.write(message(KIND_DTMF, digit.encode("ascii")))

    async def next_played(self) -> tuple[np.ndarray, bool]:
        played, _ = self.playout.pull(self.frame_samples)
        return played, False

    def queued_frames(self) -> int:
        return math.ceil(self.playout.queued_samples / self.frame_samples)

    # -- what the bot sends ---------------------------------------------------------------

    async def receive(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                header = await reader.readexactly(3)
                kind, length = struct.unpack(">BH", header)
                if kind == KIND_HANGUP:
                    self.result.hangup_received = True
                    self.end("server")
                    return
                if kind not in AUDIO_KIND_RATES:
                    self.protocol_error(f"message kind 0x{kind:02x} from the server")
                    return
                if length < 1:
                    self.protocol_error("audio message of length 0")
                    return
                self.on_audio(kind, await reader.readexactly(length))
        except (asyncio.IncompleteReadError, OSError):
            self.end("server")  # a closed socket is a hang-up

    def on_audio(self, kind: int, payload: bytes) -> None:
        name = f"0x{kind:02x}"
        if name not in self.result.audio_kinds:
            self.result.audio_kinds.append(name)
        # ast_write() translates a frame of another rate to the channel's format.
        samples = resample(pcm16_decode(payload), AUDIO_KIND_RATES[kind], self.rate)
        self.on_bot_audio(samples)
        self.playout.push_audio(samples)
        # Ahead of the line's clock, not of this loop: frames it owes a real line has played.
        lead = max(0, self.queued_frames() - self.frames_overdue())
        if lead > (self.result.max_lead_frames or 0):
            self.result.max_lead_frames = lead

    def protocol_error(self, what: str) -> None:
        self.result.errors.append(
            f"{self.now():.3f}s {what}: Asterisk logs an error and ends the AudioSocket session"
        )
        self.end("caller")

    def end(self, by: str) -> None:
        if self.result.closed_by is None:
            self.result.closed_by = by
        self.ended = True
