"""Bundled speech clips (``sim/audio``): bot replies the model "speaks", caller utterances."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np

from sim.realtime.audio import G711_RATE, PCM_RATE, read_wav, resample

AUDIO_DIR = Path(__file__).resolve().parent.parent / "audio"
GREETING = "bot_greeting.wav"


@dataclass
class BotClip:
    name: str
    text: str
    pcm24: np.ndarray  # int16 @ 24 kHz
    pcm8: np.ndarray = field(repr=False)  # int16 @ 8 kHz, resampled once at load

    def samples_for_rate(self, rate: int) -> np.ndarray:
        return self.pcm8 if rate == G711_RATE else self.pcm24


@dataclass
class CallerClip:
    name: str
    text: str
    samples: np.ndarray
    rate: int


@cache
def manifest() -> dict:
    return json.loads((AUDIO_DIR / "manifest.json").read_text())


@cache
def bot_clip(name: str) -> BotClip:
    text = manifest()["bot"].get(name, "")
    samples, rate = read_wav(AUDIO_DIR / name)
    pcm24 = resample(samples, rate, PCM_RATE)
    return BotClip(name=name, text=text, pcm24=pcm24, pcm8=resample(pcm24, PCM_RATE, G711_RATE))


@cache
def caller_clips() -> tuple[CallerClip, ...]:
    out = []
    for name, text in manifest()["caller"].items():
        samples, rate = read_wav(AUDIO_DIR / name)
        out.append(CallerClip(name=name, text=text, samples=samples, rate=rate))
    return tuple(out)
