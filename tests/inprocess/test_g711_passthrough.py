"""G.711 passthrough: on a phone line the Realtime session takes and gives μ-law at 8 kHz, so
no resampler runs anywhere in the call, and the caller still hears greeting and replies."""

import pytest
from pipecat.audio.resamplers.soxr_stream_resampler import SOXRStreamAudioResampler

from bot.config.settings import Settings
from sim.phone import PhoneCaller, Say, Silence
from sim.realtime import EmulatorConfig, RealtimeEmulator
from tests.helpers.inprocess_server import serve_inprocess

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
