"""The fallback line as a recording: what a caller hears when the Realtime API's rate limit
keeps every session away at the call's start, or refuses the model's replies mid-call, so
no model is there to say it.

A profile names its recording with ``fallback_audio`` (a WAV: mono, 16-bit PCM, any rate);
without one the bundled recording of the default line is played (rendered offline with
espeak-ng, ``bot/profiles/audio/``). The call then ends with ``end_reason: "rate limited"``
(docs/operations.md).
"""

import wave
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from loguru import logger
from pipecat.audio.utils import create_file_resampler

from bot.config.errors import ConfigError
from bot.config.profiles import DEFAULT_PROFILES_DIR, Profile

END_REASON_RATE_LIMITED = "rate limited"
BUNDLED_FALLBACK_AUDIO = DEFAULT_PROFILES_DIR / "audio" / "fallback_line.wav"
BUNDLED_FALLBACK_TEXT = BUNDLED_FALLBACK_AUDIO.with_suffix(".txt")


@dataclass(frozen=True)
class Recording:
    pcm: bytes  # 16-bit mono
    sample_rate: int

    @property
    def seconds(self) -> float:
        return len(self.pcm) / 2 / self.sample_rate


def fallback_audio_path(profile: Profile) -> Path:
    return Path(profile.fallback_audio) if profile.fallback_audio else BUNDLED_FALLBACK_AUDIO


@cache
def read_recording(path: Path) -> Recording:
    """A mono 16-bit WAV; a ValueError says in one line what is wrong with it."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getnchannels() != 1 or wav.getsampwidth() != 2:
                raise ValueError(
                    f"{path}: must be mono 16-bit PCM (has {wav.getnchannels()} channels, "
                    f"{8 * wav.getsampwidth()}-bit)"
                )
            return Recording(wav.readframes(wav.getnframes()), wav.getframerate())
    except (OSError, EOFError, wave.Error) as e:
        raise ValueError(f"{path}: cannot read it as a WAV file ({e})") from None


def check_fallback_audio(profile: Profile) -> Recording:
    """At start-up: the profile's fallback recording reads, or a ConfigError names the key.
    A changed ``fallback_line`` without its own recording is said in a warning: callers
    refused by the rate limit would hear the bundled line, not the profile's."""
    try:
        recording = read_recording(fallback_audio_path(profile))
    except ValueError as e:
        raise ConfigError(f"profile {profile.name}: fallback_audio", str(e)) from None
    if not profile.fallback_audio:
        bundled_line = BUNDLED_FALLBACK_TEXT.read_text().strip()
        if profile.fallback_line.strip() != bundled_line:
            logger.warning(
                f"profile {profile.name}: fallback_line is changed but fallback_audio is not "
                f'set: a call refused by the rate limit hears the bundled "{bundled_line}"'
            )
    return recording


async def fallback_audio_for(profile: Profile, sample_rate: int) -> Recording:
    """The profile's fallback recording at the call's output rate."""
    recording = read_recording(fallback_audio_path(profile))
    if recording.sample_rate == sample_rate:
        return recording
    resampled = await create_file_resampler().resample(
        recording.pcm, recording.sample_rate, sample_rate
    )
    return Recording(resampled, sample_rate)
