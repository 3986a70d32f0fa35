"""The audio formats an Asterisk line carries, and their frame maths.

chan_websocket names its format in MEDIA_START (`format:ulaw`); its frames are
`optimal_frame_size` bytes (20 ms: ulaw/alaw 160, slin 320, slin16 640). AudioSocket numbers
the rate in each message's kind (0x10 = 8 kHz … 0x18 = 192 kHz) and always carries 16-bit
PCM. Asterisk's slin is host-endian; every platform it runs on in practice is little-endian,
as Pipecat's PCM is, so slin needs no conversion at all.

The pipeline runs at the line's rate, so nothing resamples on the line. Which format the
Realtime session speaks follows from the codec: μ-law and A-law go to the model as
`audio/pcmu` / `audio/pcma` byte for byte in meaning (one table lookup each way at equal
rates, as on the Twilio path); 8 kHz slin goes as `audio/pcmu` too (the model's only 8 kHz
formats are G.711, and this avoids an 8→24 kHz resampler per call); slin16 and faster go as
24 kHz PCM, resampled by the Realtime service.
"""

from __future__ import annotations

import audioop
from dataclasses import dataclass
from typing import Literal

FRAME_MS = 20
SessionG711 = Literal["pcmu", "pcma"]


@dataclass(frozen=True)
class LineCodec:
    name: str
    sample_rate: int
    wire_bytes_per_sample: int
    # The Realtime session's format on this line: G.711 at 8 kHz, or None for 24 kHz PCM.
    session_g711: SessionG711 | None

    def frame_bytes(self, ms: int = FRAME_MS) -> int:
        """Bytes of ``ms`` of audio on the wire."""
        return self.sample_rate * ms // 1000 * self.wire_bytes_per_sample

    def decode(self, data: bytes) -> bytes:
        """Wire bytes → 16-bit little-endian PCM at the line's rate."""
        if self.name == "ulaw":
            return audioop.ulaw2lin(data, 2)
        if self.name == "alaw":
            return audioop.alaw2lin(data, 2)
        return data

    def encode(self, pcm: bytes) -> bytes:
        """16-bit PCM at the line's rate → wire bytes."""
        if self.name == "ulaw":
            return audioop.lin2ulaw(pcm, 2)
        if self.name == "alaw":
            return audioop.lin2alaw(pcm, 2)
        return pcm

    def duration_s(self, wire_bytes: int) -> float:
        return wire_bytes / (self.sample_rate * self.wire_bytes_per_sample)


CHAN_WEBSOCKET_CODECS: dict[str, LineCodec] = {
    "ulaw": LineCodec("ulaw", 8000, 1, "pcmu"),
    "alaw": LineCodec("alaw", 8000, 1, "pcma"),
    "slin": LineCodec("slin", 8000, 2, "pcmu"),
    "slin16": LineCodec("slin16", 16000, 2, None),
}


def slin_codec(sample_rate: int) -> LineCodec:
    """AudioSocket's format at one of its rates (always 16-bit PCM)."""
    if sample_rate == 8000:
        return CHAN_WEBSOCKET_CODECS["slin"]
    return LineCodec(f"slin{sample_rate // 1000}", sample_rate, 2, None)
