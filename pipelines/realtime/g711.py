"""G.711 between the phone line and the Realtime session: no resampling either way.

Pipecat's Realtime service always speaks 24 kHz PCM to the model, so an 8 kHz μ-law line
costs a resample up (8→24 kHz) on every caller frame and one down (24→8 kHz) on every bot
frame, and the model socket carries 6x the bytes of the line. On a phone line the session
is set to `audio/pcmu` (or `audio/pcma`) instead: the pipeline runs at the line's 8 kHz, the
serializers' μ-law↔PCM step is a table lookup at equal rates (no resampler is ever built),
and this mixin turns the 8 kHz PCM frames into G.711 bytes for the model and the model's
G.711 back into 8 kHz PCM frames. Processors that read PCM (the echo gate, its reference
tap) see 8 kHz PCM as before: audio is decoded once, where they sit.
"""

import audioop
import base64
import time
from typing import Literal

from pipecat.frames.frames import InputAudioRawFrame, TTSAudioRawFrame, TTSStartedFrame
from pipecat.services.openai.realtime.events import PCMAAudioFormat, PCMUAudioFormat
from pipecat.services.openai.realtime.llm import CurrentAudioResponse

from pipelines.realtime.audio_backlog import AudioBacklog

G711_RATE = 8000
G711_BYTES_PER_S = G711_RATE  # one byte per sample
G711Codec = Literal["pcmu", "pcma"]


def g711_audio_format(codec: G711Codec) -> PCMUAudioFormat | PCMAAudioFormat:
    return PCMUAudioFormat() if codec == "pcmu" else PCMAAudioFormat()


class G711SessionMixin:
    """Mix in before ``ResilientRealtimeLLMService``; `g711` None keeps 24 kHz PCM."""

    def __init__(self, *args, g711: G711Codec | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._g711 = g711
        if g711 is not None:
            self._backlog = AudioBacklog(
                self.resilience.reconnect.audio_buffer_s, bytes_per_s=G711_BYTES_PER_S
            )

    async def _session_audio(self, frame: InputAudioRawFrame) -> bytes:
        if self._g711 is None:
            return await super()._session_audio(frame)
        audio = frame.audio
        if frame.sample_rate != G711_RATE:  # not a phone line's frame; never on a line
            audio = await self._resampler.resample(audio, frame.sample_rate, G711_RATE)
        return audioop.lin2ulaw(audio, 2) if self._g711 == "pcmu" else audioop.lin2alaw(audio, 2)

    def _calculate_audio_duration_ms(self, total_bytes: int, *args, **kwargs) -> int:
        if self._g711 is None:
            return super()._calculate_audio_duration_ms(total_bytes, *args, **kwargs)
        return int(total_bytes * 1000 / G711_BYTES_PER_S)

    async def _handle_evt_audio_delta(self, evt):
        if self._g711 is None:
            return await super()._handle_evt_audio_delta(evt)
        # Pipecat's handler, except that the delta is G.711 at 8 kHz.
        await self.stop_ttfb_metrics()
        current = self._current_audio_response
        if not current:
            self._current_audio_response = CurrentAudioResponse(
                item_id=evt.item_id,
                content_index=evt.content_index,
                start_time_ms=int(time.time() * 1000),
                response_id=evt.response_id,
            )
            await self.push_frame(TTSStartedFrame())
        elif current.item_id != evt.item_id:
            # Several output items in one response play as one turn (as Pipecat does).
            current.item_id, current.content_index = evt.item_id, evt.content_index
            current.response_id = evt.response_id
            current.start_time_ms = int(time.time() * 1000)
            current.total_size = 0
        g711 = base64.b64decode(evt.delta)
        self._current_audio_response.total_size += len(g711)
        pcm = audioop.ulaw2lin(g711, 2) if self._g711 == "pcmu" else audioop.alaw2lin(g711, 2)
        await self.push_frame(TTSAudioRawFrame(audio=pcm, sample_rate=G711_RATE, num_channels=1))
