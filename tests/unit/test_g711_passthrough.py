"""G.711 passthrough, the Realtime service's side: caller audio goes to the session as the
line's μ-law bytes, the model's μ-law comes back as the line's PCM, and truncation points
are counted in μ-law time."""

import audioop
import base64

from pipecat.frames.frames import Frame, TTSStartedFrame
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.openai.realtime import events

from bot.config.profiles import load_profile
from pipelines.realtime.g711 import SessionAudio
from pipelines.realtime.service import create_realtime_service


async def test_g711_round_trip_matches_the_line_codec():
    service = create_realtime_service(
        load_profile("default"), api_key="test", company_name="Acme", g711="pcmu"
    )
    pushed: list[Frame] = []

    async def record(frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM):
        pushed.append(frame)

    service.push_frame = record
    pcm = audioop.ulaw2lin(bytes(range(256)), 2)
    assert await SessionAudio("pcmu").to_session(pcm, 8000) == audioop.lin2ulaw(pcm, 2)
    delta = events.ResponseAudioDelta(
        event_id="e",
        type="response.output_audio.delta",
        response_id="r",
        item_id="i",
        output_index=0,
        content_index=0,
        delta=base64.b64encode(bytes(range(256))).decode(),
    )
    await service._handle_evt_audio_delta(delta)
    started, audio_frame = pushed
    assert isinstance(started, TTSStartedFrame)
    assert audio_frame.sample_rate == 8000 and audio_frame.audio == pcm
    # Truncation points are in the model's audio: 256 μ-law bytes are 32 ms.
    assert service._calculate_audio_duration_ms(256) == 32
