"""G.711 passthrough: on a phone line the Realtime session takes and gives μ-law at 8 kHz, so
no resampler runs anywhere in the call, and the caller still hears greeting and replies."""

import audioop
import base64

import pytest
from pipecat.audio.resamplers.soxr_stream_resampler import SOXRStreamAudioResampler

from bot.config.settings import Settings
from pipelines.realtime.g711 import G711SessionMixin
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


class _Recorder:
    """The mixin's neighbours in the real service, reduced to what it touches."""

    def __init__(self):
        self.pushed = []

    async def _session_audio(self, frame):
        return b"pcm24k"

    async def push_frame(self, frame):
        self.pushed.append(frame)

    async def stop_ttfb_metrics(self):
        pass


async def test_g711_round_trip_matches_the_line_codec():
    class Service(G711SessionMixin, _Recorder):
        resilience = type("R", (), {"reconnect": type("C", (), {"audio_buffer_s": 1.0})})()

    service = Service(g711="pcmu")
    service._current_audio_response = None
    pcm = audioop.ulaw2lin(bytes(range(256)), 2)
    frame = type("F", (), {"audio": pcm, "sample_rate": 8000})()
    assert await service._session_audio(frame) == audioop.lin2ulaw(pcm, 2)
    delta = type(
        "E",
        (),
        {
            "item_id": "i",
            "content_index": 0,
            "response_id": "r",
            "delta": base64.b64encode(bytes(range(256))).decode(),
        },
    )()
    await service._handle_evt_audio_delta(delta)
    _, audio_frame = service.pushed
    assert audio_frame.sample_rate == 8000 and audio_frame.audio == pcm
    # Truncation points are in the model's audio: 256 μ-law bytes are 32 ms.
    assert service._calculate_audio_duration_ms(256) == 32
