"""The two Asterisk transports, as the server builds them for a call.

Both are `LineTransport`s (Pipecat's FastAPI WebSocket transport; AudioSocket through
`StreamWebSocket`) with a `PacedOutputTransport`, caller audio batched like the other
lines (AUDIO_IN_BATCH_MS), and the pipeline at the line's own rate, so nothing resamples
on the line. Trailing silence after the call's end is off: the bot's hang-up already waits
for its last audio to play (QUEUE_DRAINED, or the paced output's clock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams
from starlette.websockets import WebSocket

from pipelines.transports.asterisk.audiosocket import HANGUP_MESSAGE, AudioSocketSerializer
from pipelines.transports.asterisk.channel import AsteriskChannel
from pipelines.transports.asterisk.codecs import CHAN_WEBSOCKET_CODECS, FRAME_MS, LineCodec
from pipelines.transports.asterisk.control import AsteriskProtocolError, MediaStart
from pipelines.transports.asterisk.serializer import AsteriskFrameSerializer
from pipelines.transports.asterisk.stream_socket import StreamWebSocket
from pipelines.transports.inbound_audio_batch import InboundAudioBatch
from pipelines.transports.paced_output import LineHooks, NoHooks, PacedLineTransport

# AudioSocket gets no flush: at most this much is ever in flight beyond the frame on the wire.
AUDIOSOCKET_LEAD_S = FRAME_MS / 1000


@dataclass
class ChanWebSocketLine:
    transport: PacedLineTransport
    serializer: AsteriskFrameSerializer
    channel: AsteriskChannel

    async def end_media_leg(self, timeout_s: float) -> None:
        await self.channel.hang_up_after_playout(timeout_s)


@dataclass
class AudioSocketLine:
    transport: PacedLineTransport
    serializer: AudioSocketSerializer
    codec: LineCodec

    async def end_media_leg(self, timeout_s: float) -> None:
        """Asterisk writes what it gets at once: wait out what is still playing, then 0x00."""
        await asyncio.sleep(min(timeout_s, self.transport.output().clock.unplayed_s()))
        await self.transport.send(HANGUP_MESSAGE)


def chan_websocket_codec(media: MediaStart) -> LineCodec:
    """The call's codec; raises AsteriskProtocolError for a format the bot does not speak."""
    codec = CHAN_WEBSOCKET_CODECS.get(media.format)
    if codec is None:
        known = ", ".join(CHAN_WEBSOCKET_CODECS)
        raise AsteriskProtocolError(f"unsupported format {media.format[:20]!r} (use {known})")
    if media.optimal_frame_size % codec.wire_bytes_per_sample:
        raise AsteriskProtocolError(f"optimal_frame_size {media.optimal_frame_size} for {codec}")
    return codec


def _params(
    codec: LineCodec,
    serializer: AsteriskFrameSerializer | AudioSocketSerializer,
    chunk_ms: int,
) -> FastAPIWebsocketParams:
    return FastAPIWebsocketParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=codec.sample_rate,
        audio_out_sample_rate=codec.sample_rate,
        add_wav_header=False,
        serializer=serializer,
        allowed_origins=[],
        audio_out_10ms_chunks=chunk_ms // 10,
        audio_out_end_silence_secs=0,
    )


def _whole_frame_chunk_ms(chunk_ms: int, frame_ms: int) -> int:
    """AUDIO_OUT_CHUNK_MS rounded up to whole frames (Asterisk drops a partial frame)."""
    frame_ms = max(10, frame_ms // 10 * 10)
    return max(frame_ms, -(-chunk_ms // frame_ms) * frame_ms)


def create_chan_websocket_line(
    websocket: WebSocket, media: MediaStart, *, max_bytes: int, in_batch_ms: int, out_chunk_ms: int
) -> ChanWebSocketLine:
    codec = chan_websocket_codec(media)
    channel = AsteriskChannel(media, codec)
    serializer = AsteriskFrameSerializer(channel, max_bytes, InboundAudioBatch(in_batch_ms))
    frame_ms = round(1000 * codec.duration_s(media.optimal_frame_size))
    chunk_ms = _whole_frame_chunk_ms(out_chunk_ms, frame_ms)
    transport = PacedLineTransport(
        websocket, _params(codec, serializer, chunk_ms), lead_s=chunk_ms / 1000, hooks=channel
    )
    channel.bind(transport.send)
    return ChanWebSocketLine(transport, serializer, channel)


def create_audiosocket_line(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    codec: LineCodec,
    *,
    pending: Iterable[bytes],
    in_batch_ms: int,
) -> AudioSocketLine:
    serializer = AudioSocketSerializer(codec, InboundAudioBatch(in_batch_ms))
    socket: Any = StreamWebSocket(reader, writer, pending)
    hooks: LineHooks = NoHooks()
    transport = PacedLineTransport(
        cast(WebSocket, socket),
        _params(codec, serializer, FRAME_MS),
        lead_s=AUDIOSOCKET_LEAD_S,
        hooks=hooks,
    )
    return AudioSocketLine(transport, serializer, codec)
