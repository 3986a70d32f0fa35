"""Bot profiles: YAML files describing what the bot says and how the Realtime session is set up.

``load_profile("default")`` reads ``bot/profiles/default.yaml``; any other value containing a
path separator or ending in ``.yaml``/``.yml`` is read as a file path. Every problem becomes a
one-line :class:`ConfigError` naming ``profile <name>: <key>`` so start-up stops with a clear fix.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pipecat.services.openai.realtime.events import (
    AudioConfiguration,
    AudioInput,
    AudioOutput,
    InputAudioTranscription,
    PCMAAudioFormat,
    PCMAudioFormat,
    PCMUAudioFormat,
    SemanticTurnDetection,
    SessionProperties,
    TurnDetection,
)
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.config.beta_keys import TTS_ONLY_VOICES, translate_beta_keys
from bot.config.caller_info import CallerInfo, sanitize_number, sanitize_text
from bot.config.echo import EchoGateConfig
from bot.config.errors import ConfigError
from bot.config.tools import FarewellGuardSettings, ToolSettings
from bot.config.turn_presets import PRESET_NAMES, turn_detection_for

DEFAULT_PROFILES_DIR = Path(__file__).resolve().parents[1] / "profiles"
GA_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "cedar",
    "coral",
    "echo",
    "marin",
    "sage",
    "shimmer",
    "verse",
)
GREETING_FIELDS = ("caller_name", "caller_number", "company_name")
# Instructions may contain literal braces (JSON examples), so only this exact token is replaced.
COMPANY_PLACEHOLDER = "{company_name}"
UNKNOWN_CALLER_NAME = "there"
UNKNOWN_COMPANY = "the company"
MAX_OUTPUT_TOKENS = 4096
_TOOL_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

AudioFormat = PCMAudioFormat | PCMUAudioFormat | PCMAAudioFormat


def default_audio_format() -> AudioFormat:
    """The session audio format where none is given: 24 kHz PCM (rooms). Phone lines pass
    G.711 instead (pipelines/realtime/g711.py)."""
    return PCMAudioFormat()


def check_template(template: str, allowed: tuple[str, ...]) -> None:
    """Reject any placeholder outside ``allowed``, and any format spec or conversion.

    Raises:
        ValueError: describing the first offending placeholder.
    """
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(
            f"invalid template ({exc}); write literal braces as {{{{ and }}}}"
        ) from None
    allowed_text = ", ".join(f"{{{f}}}" for f in allowed)
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field not in allowed:
            raise ValueError(f"unknown field {{{field}}}; allowed fields: {allowed_text}")
        if spec or conversion:
            raise ValueError(f"format specs/conversions are not allowed in {{{field}}}")


class ProcessorSpec(BaseModel):
    """An extra pipeline processor, resolved by name elsewhere."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    position: Literal["before_llm", "after_llm"] = "before_llm"
    options: dict[str, Any] = Field(default_factory=dict)


class Profile(BaseModel):
    """A validated bot profile. Build via :func:`load_profile` or :func:`parse_profile`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    instructions: str = Field(min_length=1)
    greeting: str
    voice: str = "marin"
    model: str = Field(default="gpt-realtime", min_length=1)
    max_output_tokens: int | Literal["inf"] = MAX_OUTPUT_TOKENS
    input_transcription_model: str | None = "gpt-4o-mini-transcribe"
    turn_detection: str = "natural"
    semantic_eagerness: Literal["low", "medium", "high", "auto"] = "auto"
    tools: list[str] = Field(default_factory=list)
    tool_settings: ToolSettings = Field(default_factory=ToolSettings)
    processors: list[ProcessorSpec] = Field(default_factory=list)
    fallback_line: str = "I'm sorry, I'm having trouble right now."
    # A WAV of fallback_line (mono 16-bit), played by the bot itself when the Realtime rate
    # limit leaves a call without a session or a reply; relative to the profile file.
    # None: the bundled recording of the default line (docs/operations.md).
    fallback_audio: str | None = None
    # Spend guard (docs/operations.md): 0 = no cap. The line is said when the next reply
    # would cross the call's cost cap, then the call hangs up.
    max_call_cost_usd: float = Field(default=0.0, ge=0)
    max_call_minutes: float = Field(default=0.0, ge=0)
    budget_line: str = Field(
        default="I need to wrap up now. Thanks for calling, goodbye.", min_length=1
    )
    echo_gate: EchoGateConfig = Field(default_factory=EchoGateConfig)

    @field_validator("greeting")
    @classmethod
    def _check_greeting(cls, value: str) -> str:
        check_template(value, GREETING_FIELDS)
        return value

    @field_validator("voice")
    @classmethod
    def _check_voice(cls, value: str) -> str:
        if value in GA_VOICES:
            return value
        hint = " (that is a TTS API voice, not a Realtime one)" if value in TTS_ONLY_VOICES else ""
        raise ValueError(f"unknown voice {value!r}{hint}; valid voices: {', '.join(GA_VOICES)}")

    @field_validator("max_output_tokens", mode="before")
    @classmethod
    def _check_max_tokens(cls, value: Any) -> Any:
        ok_int = isinstance(value, int) and not isinstance(value, bool)
        if value == "inf" or (ok_int and 1 <= value <= MAX_OUTPUT_TOKENS):
            return value
        raise ValueError(f'must be an integer 1..{MAX_OUTPUT_TOKENS} or "inf"')

    @field_validator("input_transcription_model")
    @classmethod
    def _empty_disables(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return value.strip()

    @field_validator("turn_detection")
    @classmethod
    def _check_preset(cls, value: str) -> str:
        if value not in PRESET_NAMES:
            raise ValueError(f"unknown preset {value!r}; valid presets: {', '.join(PRESET_NAMES)}")
        return value

    @field_validator("tools", mode="before")
    @classmethod
    def _check_tools(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        seen: set[str] = set()
        for item in value:
            if isinstance(item, dict):
                raise ValueError("tools are names of registered tools, not function definitions")
            if not isinstance(item, str) or not _TOOL_NAME_RE.fullmatch(item):
                raise ValueError(f"tool name {item!r} is not an identifier")
            if item in seen:
                raise ValueError(f"tool {item!r} is listed twice")
            seen.add(item)
        return value

    def render_greeting(self, caller: CallerInfo, company_name: str) -> str:
        """The greeting with caller values inserted as plain data (formatted exactly once)."""
        values = {
            # Re-sanitised in case the CallerInfo was built without validation (model_construct).
            "caller_name": sanitize_text(caller.name) or UNKNOWN_CALLER_NAME,
            "caller_number": sanitize_number(caller.number),
            "company_name": company_name,
        }
        # Collapsing whitespace keeps TTS input on one line and tidies empty placeholders.
        return " ".join(self.greeting.format_map(values).split())

    def render_instructions(self, company_name: str | None = None) -> str:
        """Instructions with ``{company_name}`` filled in; other braces are left untouched."""
        return self.instructions.replace(COMPANY_PLACEHOLDER, company_name or UNKNOWN_COMPANY)

    def turn_detection_config(self) -> TurnDetection | SemanticTurnDetection:
        """Pipecat turn-detection settings for this profile's preset."""
        return turn_detection_for(self.turn_detection, self.semantic_eagerness)

    def session_properties(
        self, *, company_name: str | None = None, audio_format: AudioFormat | None = None
    ) -> SessionProperties:
        """GA-shaped Realtime session settings. Pass ``company_name`` to fill the instructions."""
        fmt = audio_format or default_audio_format()
        transcription = (
            InputAudioTranscription(model=self.input_transcription_model)
            if self.input_transcription_model
            else None
        )
        return SessionProperties(
            model=self.model,
            instructions=self.render_instructions(company_name),
            output_modalities=["audio"],
            audio=AudioConfiguration(
                input=AudioInput(
                    format=fmt,
                    transcription=transcription,
                    turn_detection=self.turn_detection_config(),
                ),
                output=AudioOutput(format=fmt, voice=self.voice),
            ),
            max_output_tokens=self.max_output_tokens,
        )


_NESTED_MODELS: dict[tuple, type[BaseModel]] = {
    ("processors",): ProcessorSpec,
    ("tool_settings",): ToolSettings,
    ("tool_settings", "farewell_guard"): FarewellGuardSettings,
    ("echo_gate",): EchoGateConfig,
}


def _reason(error: Mapping[str, Any]) -> str:
    loc = tuple(error.get("loc", ()))
    if error.get("type") == "extra_forbidden":
        model = _NESTED_MODELS.get(tuple(p for p in loc[:-1] if not isinstance(p, int)), Profile)
        return f"unknown key; valid keys: {', '.join(model.model_fields)}"
    return str(error.get("msg", "invalid value")).removeprefix("Value error, ")


def parse_profile(data: Mapping[str, Any], name: str) -> Profile:
    """Validate raw profile data (beta keys mapped or rejected first).

    Raises:
        ConfigError: with key ``profile <name>: <dotted.path>``.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"profile {name}", "top level must be a mapping of keys to values")
    raw = translate_beta_keys(dict(data), name)
    raw.setdefault("name", name)
    try:
        return Profile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        path = ".".join(str(part) for part in first.get("loc", ())) or "(profile)"
        raise ConfigError(f"profile {name}: {path}", _reason(first)) from None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys, which PyYAML would silently overwrite."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key == "<<":
            continue
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:  # unhashable key: let the normal constructor report it
            break
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def available_profiles(profiles_dir: Path = DEFAULT_PROFILES_DIR) -> list[str]:
    """Names accepted by :func:`load_profile` from ``profiles_dir``, sorted."""
    if not profiles_dir.is_dir():
        return []
    return sorted({p.stem for p in profiles_dir.iterdir() if p.suffix in (".yaml", ".yml")})


def _resolve(name_or_path: str, profiles_dir: Path) -> Path:
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") or len(candidate.parts) > 1:
        return candidate
    for suffix in (".yaml", ".yml"):
        path = profiles_dir / f"{name_or_path}{suffix}"
        if path.is_file():
            return path
    return profiles_dir / f"{name_or_path}.yaml"


def load_profile(name_or_path: str, profiles_dir: Path = DEFAULT_PROFILES_DIR) -> Profile:
    """Load and validate a profile by name (from ``profiles_dir``) or by YAML file path.

    Raises:
        ConfigError: missing file (lists available profiles), bad YAML (file and line), or
            any invalid key.
    """
    path = _resolve(name_or_path, profiles_dir)
    name = path.stem
    if not path.is_file():
        names = ", ".join(available_profiles(profiles_dir)) or "(none)"
        raise ConfigError(
            f"profile {name_or_path}", f"file not found: {path}; available profiles: {names}"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"profile {name}", f"cannot read {path}: {exc}") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise ConfigError(
            f"profile {name}", f"invalid YAML in {path}{where}: {exc.problem or exc.context}"
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"profile {name}", f"invalid YAML in {path}: {exc}") from None
    if data is None:
        raise ConfigError(f"profile {name}", f"{path} is empty")
    profile = parse_profile(data, name)
    if profile.fallback_audio and not Path(profile.fallback_audio).is_absolute():
        # Beside the profile, wherever the server is started from.
        resolved = str(path.resolve().parent / profile.fallback_audio)
        profile = profile.model_copy(update={"fallback_audio": resolved})
    return profile
