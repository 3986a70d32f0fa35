"""Cost estimate of a call from its token usage and a dated price table."""

from pathlib import Path

import yaml
from pydantic import BaseModel

DEFAULT_PRICES_FILE = Path(__file__).parent / "prices.yaml"


class ModelPrices(BaseModel):
    """USD per one million tokens."""

    text_input: float
    text_cached_input: float
    text_output: float
    audio_input: float
    audio_cached_input: float
    audio_output: float


class PriceTable(BaseModel):
    as_of: str
    source: str
    models: dict[str, ModelPrices]

    def for_model(self, model: str) -> ModelPrices | None:
        """Exact name first, then the longest known prefix (dated snapshots share prices)."""
        if model in self.models:
            return self.models[model]
        prefixes = [name for name in self.models if model.startswith(name)]
        return self.models[max(prefixes, key=len)] if prefixes else None


class TokenUsage(BaseModel):
    """Summed over a call's responses."""

    input_text: int = 0
    input_audio: int = 0
    input_cached: int = 0
    output_text: int = 0
    output_audio: int = 0

    @property
    def total(self) -> int:
        return self.input_text + self.input_audio + self.output_text + self.output_audio


def load_price_table(path: Path | None = None) -> PriceTable:
    with open(path or DEFAULT_PRICES_FILE) as f:
        return PriceTable.model_validate(yaml.safe_load(f))


def estimate_cost_usd(usage: TokenUsage, prices: ModelPrices) -> float:
    # The API reports cached tokens without saying which modality; charging them at the
    # cheaper audio-cached rate slightly under-estimates text-heavy calls, never over.
    cached = min(usage.input_cached, usage.input_text + usage.input_audio)
    audio_uncached = max(usage.input_audio - cached, 0)
    text_uncached = max(usage.input_text - max(cached - usage.input_audio, 0), 0)
    micro_usd = (
        text_uncached * prices.text_input
        + audio_uncached * prices.audio_input
        + cached * prices.audio_cached_input
        + usage.output_text * prices.text_output
        + usage.output_audio * prices.audio_output
    )
    return round(micro_usd / 1_000_000, 6)
