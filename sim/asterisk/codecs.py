"""The media formats an Asterisk-side sim line can carry, with Asterisk's own frame sizes.

chan_websocket derives its frame size from the codec table in main/codec_builtin.c:
``optimal_frame_size = default_ms * minimum_bytes / minimum_ms`` (websocket_new()), and
its timer ticks every ``default_ms`` (set_channel_timer()). For the codecs here that is
20 ms: ulaw/alaw 160 bytes, slin 320 bytes, slin16 640 bytes. Asterisk's slin is
host-endian 16-bit PCM; every platform it runs on in practice is little-endian.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.phone.audio import alaw_decode, alaw_encode, pcm16_decode, ulaw_decode, ulaw_encode

PTIME_MS = 20  # default_ms of every codec below (codec_builtin.c)
FRAME_S = PTIME_MS / 1000


def _pcm16_encode(samples: np.ndarray) -> bytes:
    return samples.astype("<i2").tobytes()


@dataclass(frozen=True)
class Codec:
    """One Asterisk format: its name on the wire (MEDIA_START ``format``) and frame maths."""

    name: str
    rate: int
    bytes_per_sample: int
    encode: Callable[[np.ndarray], bytes]
    decode: Callable[[bytes], np.ndarray]

    @property
    def frame_samples(self) -> int:
        return self.rate * PTIME_MS // 1000

    @property
    def optimal_frame_size(self) -> int:
        """Bytes per ``ptime`` frame: chan_websocket's ``optimal_frame_size``."""
        return self.frame_samples * self.bytes_per_sample


CODECS: dict[str, Codec] = {
    "ulaw": Codec("ulaw", 8000, 1, ulaw_encode, ulaw_decode),
    "alaw": Codec("alaw", 8000, 1, alaw_encode, alaw_decode),
    "slin": Codec("slin", 8000, 2, _pcm16_encode, pcm16_decode),
    "slin16": Codec("slin16", 16000, 2, _pcm16_encode, pcm16_decode),
}


def codec(name: str) -> Codec:
    try:
        return CODECS[name]
    except KeyError:
        raise ValueError(f"unknown codec {name!r}; expected one of {sorted(CODECS)}") from None


def to_8k(samples: np.ndarray, rate: int) -> np.ndarray:
    """8 kHz view of played audio for the level-based measures (speech spans, turns).

    Plain decimation: the measures only look at RMS per 20 ms, so aliasing is harmless and
    a per-frame resampler would smear frame edges.
    """
    if rate == 8000:
        return samples
    return samples[:: rate // 8000]
