"""Named turn-detection presets, so profiles pick a behaviour instead of tuning raw VAD knobs.

The numbers are part of the product contract (docs and tests quote them); change them here only.
"""

from __future__ import annotations

from typing import Literal

from pipecat.services.openai.realtime.events import SemanticTurnDetection, TurnDetection

Eagerness = Literal["low", "medium", "high", "auto"]

# name -> (threshold, prefix_padding_ms, silence_duration_ms) for server_vad.
SERVER_VAD_PRESETS: dict[str, tuple[float, int, int]] = {
    # Snappy replies for quiet lines; risks cutting off callers who pause mid-sentence.
    "low_latency": (0.4, 200, 400),
    # The Realtime API defaults: a good fit for most phone calls.
    "natural": (0.5, 300, 500),
    # Higher threshold and longer silence so street/car noise doesn't end the caller's turn.
    "noisy": (0.7, 400, 800),
}
SEMANTIC_PRESET = "semantic"
PRESET_NAMES: tuple[str, ...] = (*SERVER_VAD_PRESETS, SEMANTIC_PRESET)


def turn_detection_for(
    preset: str, eagerness: Eagerness = "auto"
) -> TurnDetection | SemanticTurnDetection:
    """Pipecat turn-detection config for ``preset``; ``eagerness`` only affects ``semantic``.

    Raises:
        ValueError: unknown preset (the message lists the valid ones).
    """
    if preset == SEMANTIC_PRESET:
        return SemanticTurnDetection(eagerness=eagerness)
    try:
        threshold, prefix_ms, silence_ms = SERVER_VAD_PRESETS[preset]
    except KeyError:
        raise ValueError(
            f"unknown preset {preset!r}; valid presets: {', '.join(PRESET_NAMES)}"
        ) from None
    return TurnDetection(
        threshold=threshold, prefix_padding_ms=prefix_ms, silence_duration_ms=silence_ms
    )
