"""Profile files for the profile tests: the shipped default with changes, and the one-line
error a bad one stops start-up with."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config.errors import ConfigError
from bot.config.profiles import DEFAULT_PROFILES_DIR, load_profile


def default_data() -> dict[str, Any]:
    return yaml.safe_load((DEFAULT_PROFILES_DIR / "default.yaml").read_text())


def write_profile(tmp_path: Path, name: str = "custom", **changes: Any) -> Path:
    data = default_data()
    data.pop("name")
    data.update(changes)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def config_error(tmp_path: Path, **changes: Any) -> str:
    with pytest.raises(ConfigError) as info:
        load_profile(str(write_profile(tmp_path, **changes)))
    text = str(info.value)
    assert text.startswith("config error: profile custom: ")
    assert "\n" not in text
    return text
