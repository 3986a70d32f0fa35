"""Audio codecs and helpers: PCM16 / G.711 (pcmu, pcma), resampling, WAV loading."""

from __future__ import annotations

import warnings
import wave
from pathlib import Path

import numpy as np
import soxr

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

PCM_RATE = 24000
G711_RATE = 8000
FORMAT_RATES = {"audio/pcm": PCM_RATE, "audio/pcmu": G711_RATE, "audio/pcma": G711_RATE}


def format_type(fmt: dict | None) -> str:
    return (fmt or {}).get("type") or "audio/pcm"


def format_rate(fmt: dict | None) -> int:
    return FORMAT_RATES[format_type(fmt)]


def bytes_per_ms(fmt: dict | None) -> int:
    """Encoded bytes per millisecond of audio in this format."""
    kind = format_type(fmt)
    return 48 if kind == "audio/pcm" else 8


def decode(data: bytes, fmt: dict | None) -> np.ndarray:
    """Decode wire audio to int16 samples at the format's native rate."""
    kind = format_type(fmt)
    if kind == "audio/pcmu":
        data = audioop.ulaw2lin(data, 2)
    elif kind == "audio/pcma":
        data = audioop.alaw2lin(data, 2)
    elif len(data) % 2:
        data = data[:-1]
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


def encode(samples: np.ndarray, fmt: dict | None) -> bytes:
    """Encode int16 samples (already at the format's native rate) for the wire."""
    pcm = np.asarray(samples, dtype="<i2").tobytes()
    kind = format_type(fmt)
    if kind == "audio/pcmu":
        return audioop.lin2ulaw(pcm, 2)
    if kind == "audio/pcma":
        return audioop.lin2alaw(pcm, 2)
    return pcm


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    if src_rate == dst_rate or len(samples) == 0:
        return np.asarray(samples, dtype=np.int16)
    out = soxr.resample(np.asarray(samples, dtype=np.int16), src_rate, dst_rate)
    return np.asarray(out, dtype=np.int16)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """Read a mono 16-bit WAV; returns (int16 samples, sample rate)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit PCM")
        frames = w.readframes(w.getnframes())
        samples = np.frombuffer(frames, dtype="<i2").astype(np.int16)
        if w.getnchannels() > 1:
            samples = samples.reshape(-1, w.getnchannels())[:, 0].copy()
        return samples, w.getframerate()


def frame_db(samples: np.ndarray, rate: int, frame_ms: int = 10) -> np.ndarray:
    """RMS level in dBFS per ``frame_ms`` frame (incomplete tail dropped), floored at -90."""
    n = rate * frame_ms // 1000
    count = len(samples) // n
    if count == 0:
        return np.zeros(0)
    x = samples[: count * n].astype(np.float64).reshape(count, n) / 32768.0
    rms = np.sqrt((x * x).mean(axis=1))
    return 20.0 * np.log10(np.maximum(rms, 10 ** (-90 / 20)))
