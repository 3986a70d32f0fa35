"""The session's audio format: 24 kHz PCM, or G.711 straight from the phone line.

Pipecat's Realtime service always speaks 24 kHz PCM to the model, so an 8 kHz μ-law line
costs a resample up (8→24 kHz) on every caller frame and one down (24→8 kHz) on every bot
frame, and the model socket carries 6x the bytes of the line. On a phone line the session
is set to `audio/pcmu` (or `audio/pcma`) instead: the pipeline runs at the line's 8 kHz, the
serializers' μ-law↔PCM step is a table lookup at equal rates (no resampler is ever built),
and ``SessionAudio`` turns the 8 kHz PCM frames into G.711 bytes for the model and the
model's G.711 back into 8 kHz PCM frames. Processors that read PCM (the echo gate, its
reference tap) see 8 kHz PCM as before: audio is decoded once, where they sit.
"""

import audioop
import time
from typing import Literal

from pipecat.audio.utils import create_stream_resampler
from pipecat.frames.frames import TTSAudioRawFrame
from pipecat.services.openai.realtime.events import (
    PCMAAudioFormat,
    PCMUAudioFormat,
    ResponseAudioDelta,
)
from pipecat.services.openai.realtime.llm import OPENAI_SAMPLE_RATE, CurrentAudioResponse

from pipelines.realtime.audio_backlog import PCM_BYTES_PER_S

G711_RATE = 8000
G711_BYTES_PER_S = G711_RATE  # one byte per sample
G711Codec = Literal["pcmu", "pcma"]


def g711_audio_format(codec: G711Codec) -> PCMUAudioFormat | PCMAAudioFormat:
    return PCMUAudioFormat() if codec == "pcmu" else PCMAAudioFormat()


def follow_reply(
    current: CurrentAudioResponse | None, evt: ResponseAudioDelta
) -> CurrentAudioResponse | None:
    """Pipecat's record of the reply playing, kept as its own audio handler keeps it: a new
    record when a reply starts (returned), else None, with ``current`` moved on to the next
    output item when the delta starts one (several items play as one turn, as in Pipecat)."""
    if not current:
        return CurrentAudioResponse(
            item_id=evt.item_id,
            content_index=evt.content_index,
            start_time_ms=int(time.time() * 1000),
            response_id=evt.response_id,
        )
    if current.item_id != evt.item_id:
        current.item_id, current.content_index = evt.item_id, evt.content_index
        current.response_id = evt.response_id
        current.start_time_ms = int(time.time() * 1000)
        current.total_size = 0
    return None


class SessionAudio:
    """Caller frames into the session's input format, and G.711 replies back into frames.
    ``g711`` None keeps Pipecat's 24 kHz PCM."""

    def __init__(self, g711: G711Codec | None = None) -> None:
        self.g711 = g711
        self.bytes_per_s = G711_BYTES_PER_S if g711 is not None else PCM_BYTES_PER_S
        # Built lazily by soxr on the first frame whose rate differs: never on a phone line.
        self._resampler = create_stream_resampler()

    async def to_session(self, audio: bytes, sample_rate: int) -> bytes:
        """Caller 16-bit mono PCM at ``sample_rate`` in the session's input format."""
        if self.g711 is None:
            if sample_rate == OPENAI_SAMPLE_RATE:
                return audio
            return await self._resampler.resample(audio, sample_rate, OPENAI_SAMPLE_RATE)
        if sample_rate != G711_RATE:  # not a phone line's audio; never on a line
            audio = await self._resampler.resample(audio, sample_rate, G711_RATE)
        return audioop.lin2ulaw(audio, 2) if self.g711 == "pcmu" else audioop.lin2alaw(audio, 2)

    def to_frame(self, g711: bytes) -> TTSAudioRawFrame:
        """The model's G.711 bytes as the 8 kHz PCM frame the pipeline plays."""
        pcm = audioop.ulaw2lin(g711, 2) if self.g711 == "pcmu" else audioop.alaw2lin(g711, 2)
        return TTSAudioRawFrame(audio=pcm, sample_rate=G711_RATE, num_channels=1)

    def duration_ms(self, g711_bytes: int) -> int:
        """Truncation points are in the model's audio, which is one byte per 8 kHz sample."""
        return int(g711_bytes * 1000 / G711_BYTES_PER_S)
