"""Caller audio in larger frames (AUDIO_IN_BATCH_MS), through a whole call: the model hears
the caller in appends of the batch size, and answers."""

import base64

from bot.config.settings import Settings
from sim.phone import PhoneCaller, Say, Silence
from sim.realtime import EmulatorConfig, RealtimeEmulator
from tests.helpers.inprocess_server import serve_inprocess

ORDER = "sim/audio/caller_order_status.wav"


async def test_the_model_hears_the_caller_in_100_ms_appends_and_answers(tmp_path):
    settings = Settings(_env_file=None, records_dir=tmp_path / "records", audio_in_batch_ms=100)
    async with RealtimeEmulator(EmulatorConfig()) as emulator:
        async with serve_inprocess(settings, emulator.url) as server:
            caller = PhoneCaller(
                url=server.ws_url, provider="twilio", steps=[Say(ORDER), Silence(2.5)]
            )
            result = await caller.run()
        [session] = emulator.sessions
    assert result.connected, result.errors
    assert result.turns and result.turns[0].latency_s is not None
    appends = [
        len(base64.b64decode(e["audio"]))
        for e in session.client_events
        if e.get("type") == "input_audio_buffer.append"
    ]
    # μ-law: one byte per sample, 800 bytes = 100 ms. Every append is whole batches (audio
    # kept while the session was still opening goes out joined), nearly all exactly one.
    assert len(appends) > 20
    assert all(size % 800 == 0 for size in appends), appends
    assert appends.count(800) >= 0.9 * len(appends)
