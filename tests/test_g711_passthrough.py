"""G.711 passthrough: on a phone line the Realtime session takes and gives μ-law at 8 kHz, so
no resampler runs anywhere in the call, and the caller still hears greeting and replies."""

import audioop
import base64

import pytest
from pipecat.audio.resamplers.soxr_stream_resampler import SOXRStreamAudioResampler
from pipecat.frames.frames import Frame, InputAudioRawFrame, TTSStartedFrame
from pipecat.processors.frame_processor import FrameDirection
from pipecat.services.openai.realtime import events

from bot.config.profiles import load_profile
from bot.config.settings import Settings
from pipelines.realtime.g711 import SessionAudio
from pipelines.realtime.service import create_realtime_service
from sim.phone import PhoneCaller, Say, Silence
from sim.realtime import EmulatorConfig, RealtimeEmulator
from tests.inprocess_server import serve_inprocess

ORDER = "sim/audio/caller_order_status.wav"
THANKS = "sim/audio/caller_thanks.wav"


@pytest.fixture
def resamplers_built(monkeypatch) -> list[tuple[int, int]]:
    """Every rate conversion Pipecat sets up in this process (its soxr streams are built
    lazily, on the first frame whose rates differ)."""
    built: list[tuple[int, int]] = []
    original = SOXRStreamAudioResampler._initialize

    def record(self, in_rate, out_rate):
        built.append((in_rate, out_rate))
        return original(self, in_rate, out_rate)

    monkeypatch.setattr(SOXRStreamAudioResampler, "_initialize", record)
    return built


@pytest.mark.parametrize("provider", ["twilio", "exotel"])
async def test_a_phone_call_runs_g711_end_to_end_without_resampling(
    tmp_path, resamplers_built, provider
):
    settings = Settings(_env_file=None, records_dir=tmp_path / "records")
    async with RealtimeEmulator(EmulatorConfig()) as emulator:
        async with serve_inprocess(settings, emulator.url, provider) as server:
            caller = PhoneCaller(
                url=server.ws_url,
                provider=provider,
                steps=[Say(ORDER), Silence(2.5), Say(THANKS), Silence(2.5)],
            )
            result = await caller.run()
        [session] = emulator.sessions
    assert result.connected, result.errors
    assert result.greeting_audio_s > 1.0
    assert [t.latency_s is not None and t.bot_audio_s > 1.0 for t in result.turns] == [True] * 2
    audio = session.config["audio"]
    assert audio["input"]["format"]["type"] == "audio/pcmu"
    assert audio["output"]["format"]["type"] == "audio/pcmu"
    assert resamplers_built == []


async def test_g711_round_trip_matches_the_line_codec():
    service = create_realtime_service(
        load_profile("default"), api_key="test", company_name="Acme", g711="pcmu"
    )
    pushed: list[Frame] = []

    async def record(frame: Frame, direction: FrameDirection = FrameDirection.DOWNSTREAM):
        pushed.append(frame)

    service.push_frame = record
    pcm = audioop.ulaw2lin(bytes(range(256)), 2)
    frame = InputAudioRawFrame(audio=pcm, sample_rate=8000, num_channels=1)
    assert await SessionAudio("pcmu").to_session(frame) == audioop.lin2ulaw(pcm, 2)
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
