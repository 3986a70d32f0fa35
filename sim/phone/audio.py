"""8 kHz telephone audio helpers: WAV loading, G.711 μ-law, levels.

Everything inside the caller is int16 mono at 8 kHz, 20 ms (160 sample) frames,
which is what every supported provider puts on the wire.
"""

from __future__ import annotations

import warnings
import wave
from pathlib import Path

import numpy as np
import soxr

with warnings.catch_warnings():
    # audioop is the reference G.711 codec on 3.11; its removal in 3.13 is out of scope here.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

SAMPLE_RATE = 8000
FRAME_S = 0.02
FRAME_SAMPLES = int(SAMPLE_RATE * FRAME_S)
# RMS (int16 units, ~-44 dBFS) below which received audio is comfort silence, not speech.
BOT_AUDIO_RMS_FLOOR = 200.0


def load_wav_8k(path: str | Path) -> np.ndarray:
    """Load a PCM16 WAV as int16 mono at 8 kHz (downmixed and resampled if needed)."""
    return load_wav(path, SAMPLE_RATE)


def load_wav(path: str | Path, rate: int) -> np.ndarray:
    """Load a PCM16 WAV as int16 mono at ``rate`` (wideband lines, e.g. 16 kHz slin16)."""
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit PCM WAV is supported")
        file_rate, channels = w.getframerate(), w.getnchannels()
        raw = w.readframes(w.getnframes())
    samples = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1).astype(np.int16)
    return resample(samples, file_rate, rate)


def resample(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Resample int16 mono audio; a no-op when the rates already match."""
    if in_rate == out_rate or samples.size == 0:
        return samples.astype(np.int16, copy=False)
    return soxr.resample(samples.astype(np.int16), in_rate, out_rate).astype(np.int16)


def write_wav_8k(path: str | Path, samples: np.ndarray) -> None:
    """Write int16 mono 8 kHz samples as a WAV file."""
    write_wav(path, samples, SAMPLE_RATE)


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    """Write int16 mono samples at ``rate`` as a WAV file."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.astype("<i2").tobytes())


def ulaw_encode(samples: np.ndarray) -> bytes:
    return audioop.lin2ulaw(samples.astype("<i2").tobytes(), 2)


def ulaw_decode(data: bytes) -> np.ndarray:
    return np.frombuffer(audioop.ulaw2lin(data, 2), dtype="<i2").astype(np.int16)


def alaw_encode(samples: np.ndarray) -> bytes:
    return audioop.lin2alaw(samples.astype("<i2").tobytes(), 2)


def alaw_decode(data: bytes) -> np.ndarray:
    return np.frombuffer(audioop.alaw2lin(data, 2), dtype="<i2").astype(np.int16)


def pcm16_decode(data: bytes) -> np.ndarray:
    usable = len(data) - (len(data) % 2)
    return np.frombuffer(data[:usable], dtype="<i2").astype(np.int16)


def rms(samples: np.ndarray) -> float:
    if samples.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(samples.astype(np.float64) ** 2)))


def voiced_seconds(samples: np.ndarray) -> float:
    """Seconds of 20 ms sub-frames whose RMS clears the bot-audio floor."""
    voiced = 0
    for start in range(0, samples.size, FRAME_SAMPLES):
        chunk = samples[start : start + FRAME_SAMPLES]
        if rms(chunk) > BOT_AUDIO_RMS_FLOOR:
            voiced += chunk.size
    return voiced / SAMPLE_RATE


def mix_clip(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Add two int16 signals of equal length with saturation instead of wrap-around."""
    total = a.astype(np.int32) + b.astype(np.int32)
    return np.clip(total, -32768, 32767).astype(np.int16)
