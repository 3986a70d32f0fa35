"""Echo-gate settings: the mode, a named preset of thresholds, and per-key overrides.

The preset numbers are part of the product contract (docs/echo_gate.md and the benchmark quote
them); change them here only.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

EchoMode = Literal["off", "mute_while_speaking", "reference"]


# Shared bounds, so a bad override is refused with the key's own name.
ExcessDb = Annotated[float, Field(ge=0.0, le=40.0)]
FloorDbfs = Annotated[float, Field(ge=-90.0, le=-10.0)]
OpenMs = Annotated[int, Field(ge=20, le=500)]
CloseMs = Annotated[int, Field(ge=20, le=3000)]
PreRollMs = Annotated[int, Field(ge=0, le=500)]
TailMs = Annotated[int, Field(ge=0, le=3000)]
MaxDelayMs = Annotated[int, Field(ge=40, le=1000)]


class EchoThresholds(BaseModel):
    """The knobs of the per-frame decision. Times in milliseconds, levels in dB."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Caller speech must beat the expected echo residual plus the noise floor by this much.
    excess_db: ExcessDb = 8.0
    # Below this level (dBFS) the input is never caller speech, whatever the echo estimate says.
    floor_dbfs: FloorDbfs = -50.0
    # Consecutive speech-like frames needed to open; non-speech frames needed to close again.
    open_ms: OpenMs = 60
    close_ms: CloseMs = 400
    # Audio held back while the bot speaks and released when the gate opens (onset not clipped).
    pre_roll_ms: PreRollMs = 100
    # How long after the bot's last played audio the gate keeps judging (the echo's way back).
    tail_ms: TailMs = 500
    # Longest echo-path delay searched by cross-correlation (line + network + room): SIP
    # trunks and PBX jitter buffers give round trips up to 600 ms (docs/echo_gate.md).
    max_delay_ms: MaxDelayMs = 640


ECHO_PRESETS: dict[str, EchoThresholds] = {
    # Phone lines and most speakerphones: the numbers the benchmark table is measured with.
    "balanced": EchoThresholds(),
    # Loud rooms or long mobile/VoIP paths: more evidence before opening, a longer tail.
    "strict": EchoThresholds(excess_db=11.0, open_ms=100, tail_ms=800),
    # Quiet headsets: open on less evidence, shorter tail; faster barge-ins, more echo risk.
    "sensitive": EchoThresholds(excess_db=6.0, open_ms=40, close_ms=300, tail_ms=300),
}
PRESET_NAMES: tuple[str, ...] = tuple(ECHO_PRESETS)


class EchoGateConfig(BaseModel):
    """The profile's ``echo_gate`` section.

    ``preset`` picks the thresholds; any key of :class:`EchoThresholds` given next to it
    overrides that one value (e.g. ``tail_ms: 800``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: EchoMode = "reference"
    preset: str = "balanced"
    excess_db: ExcessDb | None = None
    floor_dbfs: FloorDbfs | None = None
    open_ms: OpenMs | None = None
    close_ms: CloseMs | None = None
    pre_roll_ms: PreRollMs | None = None
    tail_ms: TailMs | None = None
    max_delay_ms: MaxDelayMs | None = None

    @field_validator("preset")
    @classmethod
    def _check_preset(cls, value: str) -> str:
        if value not in ECHO_PRESETS:
            raise ValueError(f"unknown preset {value!r}; valid presets: {', '.join(PRESET_NAMES)}")
        return value

    def thresholds(self) -> EchoThresholds:
        overrides = {
            key: value
            for key in EchoThresholds.model_fields
            if (value := getattr(self, key)) is not None
        }
        base = ECHO_PRESETS[self.preset]
        return EchoThresholds.model_validate({**base.model_dump(), **overrides})
