"""Profiles written for the Realtime beta: each beta key is mapped to its GA form with a
warning, or stops start-up naming the key and its GA replacement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from loguru import logger

from bot.config.errors import ConfigError
from bot.config.profiles import load_profile, parse_profile
from tests.helpers.profile_files import config_error, default_data, write_profile


@pytest.fixture
def warnings() -> Iterator[list[str]]:
    messages: list[str] = []
    sink = logger.add(
        lambda m: messages.append(str(m)), level="WARNING", format="{level} {message}"
    )
    yield messages
    logger.remove(sink)


def test_beta_temperature_rejected(tmp_path: Path) -> None:
    text = config_error(tmp_path, temperature=0.8)
    assert "profile custom: temperature:" in text
    assert "not supported by the GA Realtime API; remove it" in text


@pytest.mark.parametrize(
    ("key", "value", "ga"),
    [
        ("input_audio_format", "g711_ulaw", "audio.input.format {type: audio/pcmu}"),
        ("output_audio_format", "g711_alaw", "audio.output.format {type: audio/pcma}"),
        ("input_audio_format", "pcm16", "audio.input.format {type: audio/pcm, rate: 24000}"),
    ],
)
def test_beta_audio_formats_rejected(tmp_path: Path, key: str, value: str, ga: str) -> None:
    text = config_error(tmp_path, **{key: value})
    assert f"profile custom: {key}:" in text
    assert ga in text and "the bot picks the line's codec itself" in text


def test_beta_turn_detection_mapping_rejected(tmp_path: Path) -> None:
    text = config_error(tmp_path, turn_detection={"type": "server_vad", "threshold": 0.5})
    assert "profile custom: turn_detection:" in text
    assert "use a preset name: low_latency|natural|noisy|semantic" in text


def test_beta_modalities_mapped_with_warning(tmp_path: Path, warnings: list[str]) -> None:
    profile = load_profile(str(write_profile(tmp_path, modalities=["text", "audio"])))
    assert profile.session_properties().output_modalities == ["audio"]
    assert any(
        m.startswith("WARNING")
        and "'modalities'" in m
        and "output_modalities" in m
        and "transcript" in m
        for m in warnings
    )


def test_beta_text_only_modalities_rejected(tmp_path: Path) -> None:
    assert "output_modalities" in config_error(tmp_path, modalities=["text"])


def test_beta_max_tokens_mapped_with_warning(tmp_path: Path, warnings: list[str]) -> None:
    data = default_data()
    del data["max_output_tokens"]
    data["max_response_output_tokens"] = 300
    profile = parse_profile(data, "custom")
    assert profile.max_output_tokens == 300
    assert any("'max_response_output_tokens' -> GA 'max_output_tokens'" in m for m in warnings)


def test_beta_and_ga_key_together_rejected(tmp_path: Path) -> None:
    text = config_error(tmp_path, max_response_output_tokens=300)
    assert "max_response_output_tokens" in text and "keep only max_output_tokens" in text


def test_beta_transcription_mapped_with_warning(warnings: list[str]) -> None:
    data = default_data()
    del data["input_transcription_model"]
    data["input_audio_transcription"] = {"model": "whisper-1"}
    assert parse_profile(data, "custom").input_transcription_model == "whisper-1"
    assert any(
        "'input_audio_transcription' -> GA 'input_transcription_model'" in m for m in warnings
    )

    data["input_audio_transcription"] = {"model": "whisper-1", "language": "en"}
    with pytest.raises(ConfigError, match=r"input_audio_transcription\.language"):
        parse_profile(data, "custom")
