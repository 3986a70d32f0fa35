"""Speech clips: bot replies the model "speaks" and caller utterances it recognises — the
bundled ones (``sim/audio``) and users' own (a WAV with its transcript in a ``.txt`` beside)."""

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


def _bot_clip_from(path: Path, name: str, text: str) -> BotClip:
    samples, rate = read_wav(path)
    pcm24 = resample(samples, rate, PCM_RATE)
    return BotClip(name=name, text=text, pcm24=pcm24, pcm8=resample(pcm24, PCM_RATE, G711_RATE))


@cache
def bot_clip(name: str) -> BotClip:
    return _bot_clip_from(AUDIO_DIR / name, name, manifest()["bot"].get(name, ""))


@cache
def wav_clip(path: str) -> BotClip:
    """A user's WAV as bot speech; its transcript is the ``.txt`` beside it, if any."""
    wav = Path(path)
    return _bot_clip_from(wav, wav.name, transcript_beside(wav) or "")


def transcript_beside(wav: Path) -> str | None:
    text_file = wav.with_suffix(".txt")
    return text_file.read_text().strip() if text_file.is_file() else None


@cache
def caller_clips(extra_dirs: tuple[str, ...] = ()) -> tuple[CallerClip, ...]:
    """The bundled caller clips, then every WAV with a transcript in ``extra_dirs``."""
    out = []
    for name, text in manifest()["caller"].items():
        samples, rate = read_wav(AUDIO_DIR / name)
        out.append(CallerClip(name=name, text=text, samples=samples, rate=rate))
    for folder in extra_dirs:
        for wav in sorted(Path(folder).glob("*.wav")):
            text = transcript_beside(wav)
            if text is None:
                raise ValueError(f"{wav}: no transcript beside it ({wav.with_suffix('.txt').name})")
            samples, rate = read_wav(wav)
            out.append(CallerClip(name=str(wav), text=text, samples=samples, rate=rate))
    return tuple(out)
