"""Realtime *beta* session keys that people copy into profiles, and what GA uses instead.

A beta key is never silently ignored: it is either mapped to the GA profile key with a
WARNING naming old -> new, or rejected with a ConfigError naming the GA replacement.

| beta key                      | handling                                                      |
|-------------------------------|---------------------------------------------------------------|
| modalities: [text, audio]     | dropped; GA sends output_modalities: [audio] (with transcript)|
| max_response_output_tokens    | mapped to max_output_tokens                                   |
| input_audio_transcription     | {model: X} mapped to input_transcription_model: X             |
| temperature                   | rejected: removed from the GA Realtime API                    |
| input_audio_format            | rejected: GA audio.input.format; the bot picks the codec      |
| output_audio_format           | rejected: GA audio.output.format; the bot picks the codec     |
| input_audio_noise_reduction   | rejected: GA audio.input.noise_reduction, not in profiles yet |
| turn_detection: {type: ...}   | rejected: use a preset name (bot/config/turn_presets.py)      |

Voices: every beta Realtime voice still exists in GA, so none needs mapping. The TTS-API-only
voices below are a common mix-up and get a specific hint.
"""

from __future__ import annotations

from typing import Any

from loguru import logger

from bot.config.errors import ConfigError
from bot.config.turn_presets import PRESET_NAMES

TTS_ONLY_VOICES = frozenset({"fable", "nova", "onyx"})

# Beta audio format names -> the GA `audio.*.format` value, quoted in error messages.
GA_AUDIO_FORMATS = {
    "pcm16": "{type: audio/pcm, rate: 24000}",
    "g711_ulaw": "{type: audio/pcmu}",
    "g711_alaw": "{type: audio/pcma}",
}

REMOVED_KEYS = {
    "temperature": "not supported by the GA Realtime API; remove it",
    "input_audio_noise_reduction": (
        "beta key; GA moved it to audio.input.noise_reduction, which profiles do not set yet; "
        "remove it"
    ),
}

RENAMED_KEYS = {
    "max_response_output_tokens": "max_output_tokens",
    "input_audio_transcription": "input_transcription_model",
}

_PRESETS = "|".join(PRESET_NAMES)


def _audio_format_reason(direction: str, value: Any) -> str:
    ga = GA_AUDIO_FORMATS.get(str(value), "{type: audio/pcm|audio/pcmu|audio/pcma}")
    return (
        f"beta key not supported by the GA Realtime API; GA uses audio.{direction}.format {ga}; "
        "the bot picks the line's codec itself, so remove it"
    )


def _modalities(value: Any, profile: str) -> None:
    items = value if isinstance(value, list) else [value]
    if "audio" not in items or not set(items) <= {"text", "audio"}:
        raise ConfigError(
            f"profile {profile}: modalities",
            "beta key; this bot always answers with audio (GA output_modalities: [audio]); "
            "remove it",
        )
    logger.warning(
        f"profile {profile}: Realtime beta key 'modalities' -> GA 'output_modalities: [audio]' "
        "('text' dropped; GA audio responses always include a transcript); remove it"
    )


def _transcription_model(value: Any, profile: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("model"), str):
        raise ConfigError(
            f"profile {profile}: input_audio_transcription",
            "beta key; use input_transcription_model: <model name> (or null to disable)",
        )
    for extra in value:
        if extra != "model":
            raise ConfigError(
                f"profile {profile}: input_audio_transcription.{extra}",
                "not supported in profiles; only `model` maps to input_transcription_model",
            )
    return value["model"]


def translate_beta_keys(data: dict[str, Any], profile: str) -> dict[str, Any]:
    """Return a copy of raw profile data with beta keys mapped to GA keys.

    Raises:
        ConfigError: for beta keys that have no profile equivalent, naming the GA replacement.
    """
    out = dict(data)
    for key, reason in REMOVED_KEYS.items():
        if key in out:
            raise ConfigError(f"profile {profile}: {key}", reason)
    for direction in ("input", "output"):
        key = f"{direction}_audio_format"
        if key in out:
            raise ConfigError(
                f"profile {profile}: {key}", _audio_format_reason(direction, out[key])
            )
    if isinstance(out.get("turn_detection"), dict):
        raise ConfigError(
            f"profile {profile}: turn_detection",
            f"beta-style mapping (type: server_vad ...) is not accepted; use a preset name: "
            f"{_PRESETS} (semantic also reads semantic_eagerness)",
        )

    if "modalities" in out:
        _modalities(out.pop("modalities"), profile)

    for old, new in RENAMED_KEYS.items():
        if old not in out:
            continue
        if new in out:
            raise ConfigError(
                f"profile {profile}: {old}",
                f"beta name for {new}, which is also set; keep only {new}",
            )
        value = out.pop(old)
        if old == "input_audio_transcription":
            value = _transcription_model(value, profile)
        out[new] = value
        logger.warning(f"profile {profile}: Realtime beta key '{old}' -> GA '{new}'; rename it")
    return out
