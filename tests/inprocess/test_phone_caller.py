"""The simulated phone caller against a fake Pipecat-side bot, both in this process."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from sim.phone import EchoPath, Hangup, PhoneCaller, Say, Silence
from tests.helpers.fakebot import (
    BotScript,
    FakeBot,
    frame_rms,
    hello_clip,
    noise,
    read_wav,
    tone,
)

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return hello_clip(tmp_path)


async def test_twilio_greeting_turn_timing_and_recording(clip: Path, tmp_path: Path) -> None:
    rec = tmp_path / "heard.wav"
    async with FakeBot(BotScript(reply_delay_s=0.2)) as bot:
        result = await PhoneCaller(
            bot.url,
            "twilio",
            [Say(clip), Silence(1.2)],
            caller_name="Ada",
            custom_parameters={"k": "v"},
            wait_for_greeting_s=3.0,
            record_path=rec,
        ).run()
        await asyncio.wait_for(bot.log.closed.wait(), 2)

    assert result.connected and result.closed_by == "caller" and not result.errors
    assert bot.log.transport == "twilio"
    assert bot.log.call_data.body["k"] == "v" and bot.log.call_data.body["caller_name"] == "Ada"
    assert result.greeting_delay_s is not None and result.greeting_delay_s < 0.3
    assert result.greeting_audio_s == pytest.approx(1.0, abs=0.05)
    # The caller waited for the greeting to finish playing (1 s of audio) before speaking.
    turn = result.turns[0]
    assert turn.utterance == "hello.wav"
    assert 1.0 <= turn.start_s < 1.8
    assert turn.end_of_utterance_s == pytest.approx(turn.start_s + 0.6, abs=0.1)
    # Bot: 200 ms VAD hangover + 200 ms think time.
    assert turn.latency_s == pytest.approx(0.4, abs=0.2)
    assert turn.bot_audio_s == pytest.approx(0.6, abs=0.05)
    assert result.bot_audio_total_s == pytest.approx(1.6, abs=0.1)
    assert bot.log.events("stop")

    # Media frames: 20 ms μ-law, counters and timestamps as Twilio numbers them.
    media = bot.log.events("media")
    assert [int(m["media"]["chunk"]) for m in media[:3]] == [1, 2, 3]
    assert [int(m["media"]["timestamp"]) for m in media[:3]] == [0, 20, 40]
    seqs = [int(m["sequenceNumber"]) for m in bot.log.messages if "sequenceNumber" in m]
    assert seqs == list(range(1, len(seqs) + 1))
    # Real-time pacing: frames sent ≈ call duration / 20 ms.
    assert len(media) == pytest.approx(result.duration_s / 0.02, abs=5)

    # The recording is the bot as heard: greeting first, then the reply after the latency.
    heard, rate = read_wav(rec)
    assert rate == 8000
    assert heard.size / 8000 == pytest.approx(result.duration_s, abs=0.1)
    assert frame_rms(heard[800:7200]) > 3000  # 0.1-0.9 s: greeting
    assert frame_rms(heard[9000 : int(turn.start_s * 8000)]) < 50  # quiet before speaking
    reply_at = turn.end_of_utterance_s + turn.latency_s
    lo, hi = int((reply_at + 0.1) * 8000), int((reply_at + 0.4) * 8000)
    assert frame_rms(heard[lo:hi]) > 3000
    assert frame_rms(heard[-1600:]) < 50


async def test_unanswered_turn_has_no_latency(clip: Path) -> None:
    async with FakeBot(BotScript(greeting=None, answer_turns={0})) as bot:
        result = await PhoneCaller(
            bot.url,
            "telnyx",
            [Say(clip), Silence(1.0), Say(clip), Silence(0.8)],
            wait_for_greeting_s=0.2,
        ).run()
    assert result.greeting_delay_s is None and result.greeting_audio_s == 0
    first, second = result.turns
    assert first.latency_s is not None and first.bot_audio_s > 0.5
    assert second.latency_s is None and second.first_bot_audio_s is None
    assert second.bot_audio_s == 0


async def test_marks_are_answered_when_playback_reaches_them() -> None:
    async with FakeBot(BotScript(mark_after_greeting="greeting-done")) as bot:
        result = await PhoneCaller(bot.url, "twilio", [Silence(0.3)], wait_for_greeting_s=3.0).run()
    assert result.mark_names == ["greeting-done"] and result.marks_answered == 1
    (mark,) = bot.log.events("mark")
    assert mark["mark"]["name"] == "greeting-done"
    assert mark["streamSid"] == result.stream_sid
    # The greeting arrived in a burst but lasts 1 s: the mark comes back after playback.
    assert bot.log.time_of("mark") == pytest.approx(1.0, abs=0.1)


async def test_clear_drops_queued_audio(tmp_path: Path) -> None:
    rec = tmp_path / "heard.wav"
    script = BotScript(greeting=tone(2.0), mark_after_greeting="m1", clear_after_s=0.4)
    async with FakeBot(script) as bot:
        result = await PhoneCaller(
            bot.url, "twilio", [Silence(0.6)], wait_for_greeting_s=0, record_path=rec
        ).run()
    assert result.clears == 1 and result.clear_times_s[0] == pytest.approx(0.4, abs=0.1)
    # Twilio returns pending marks when the queue is cleared.
    assert result.mark_names == ["m1"]
    heard, _ = read_wav(rec)
    clear_at = result.clear_times_s[0]
    assert frame_rms(heard[: int((clear_at - 0.05) * 8000)][-800:]) > 3000
    assert frame_rms(heard[int((clear_at + 0.05) * 8000) :]) < 50


@pytest.mark.parametrize("provider", ["twilio", "exotel", "plivo"])
async def test_hangup_mid_reply_sends_stop_and_closes(provider: str, clip: Path) -> None:
    script = BotScript(greeting=None, reply=tone(3.0), realtime_reply=True)
    async with FakeBot(script) as bot:
        result = await PhoneCaller(
            bot.url,
            provider,
            [Say(clip), Hangup(after_bot_audio_s=0.5), Silence(5.0)],
            wait_for_greeting_s=0,
        ).run()
        await asyncio.wait_for(bot.log.closed.wait(), 2)
    assert result.closed_by == "caller" and result.close_code == 1000
    turn = result.turns[0]
    assert 0.5 <= turn.bot_audio_s < 0.8
    assert result.duration_s < 2.5  # the trailing 5 s of silence never ran
    stop = bot.log.messages[-1]
    assert stop["event"] == "stop"


async def test_telnyx_outbound_parsing(clip: Path) -> None:
    async with FakeBot(BotScript()) as bot:
        result = await PhoneCaller(
            bot.url, "telnyx", [Say(clip), Silence(1.0)], wait_for_greeting_s=3.0
        ).run()
    assert bot.log.call_data.outbound_encoding == "PCMU"
    assert result.greeting_audio_s == pytest.approx(1.0, abs=0.05)
    assert result.turns[0].latency_s is not None
    assert result.turns[0].bot_audio_s == pytest.approx(0.6, abs=0.05)
    media = bot.log.events("media")
    assert media and all(m["stream_id"] == result.stream_sid for m in media)


async def test_plivo_play_audio_checkpoint_and_clear() -> None:
    script = BotScript(greeting=tone(1.5), mark_after_greeting="cp1", clear_after_s=0.3)
    async with FakeBot(script) as bot:
        result = await PhoneCaller(bot.url, "plivo", [Silence(0.5)], wait_for_greeting_s=0).run()
    assert result.greeting_audio_s == pytest.approx(1.5, abs=0.05)
    assert result.clears == 1
    assert bot.log.events("clearedAudio")
    # Plivo only confirms checkpoints whose audio actually played; the clear dropped it.
    assert not bot.log.events("playedStream") and result.marks_answered == 0


async def test_plivo_checkpoint_answered_with_played_stream() -> None:
    script = BotScript(greeting=tone(0.4), mark_after_greeting="cp1")
    async with FakeBot(script) as bot:
        result = await PhoneCaller(bot.url, "plivo", [Silence(0.2)], wait_for_greeting_s=2).run()
    (played,) = bot.log.events("playedStream")
    assert played["name"] == "cp1" and played["streamId"] == result.stream_sid
    assert bot.log.time_of("playedStream") == pytest.approx(0.4, abs=0.1)


async def test_exotel_pcm_media_and_mark(clip: Path) -> None:
    script = BotScript(mark_after_greeting="g")
    async with FakeBot(script) as bot:
        result = await PhoneCaller(
            bot.url, "exotel", [Say(clip), Silence(1.0)], wait_for_greeting_s=3.0
        ).run()
    assert result.greeting_audio_s == pytest.approx(1.0, abs=0.05)
    assert result.turns[0].bot_audio_s == pytest.approx(0.6, abs=0.05)
    assert result.mark_names == ["g"]
    assert bot.log.events("mark")[0]["stream_sid"] == result.stream_sid
    # Exotel carries raw PCM16: the fake bot hears the clip at full level.
    assert frame_rms(bot.log.audio()) > 1000


async def test_echo_path_mixes_delayed_played_audio(tmp_path: Path) -> None:
    rec = tmp_path / "heard.wav"
    script = BotScript(greeting=noise(1.0), answer_turns=set())
    async with FakeBot(script) as bot:
        result = await PhoneCaller(
            bot.url,
            "twilio",
            [Silence(1.5)],
            wait_for_greeting_s=0,
            echo=EchoPath(delay_s=0.12, gain_db=-12),
            record_path=rec,
        ).run()
    heard, _ = read_wav(rec)
    sent = bot.log.audio()[: heard.size].astype(np.float64)
    played = heard[: sent.size].astype(np.float64)
    corr = [float(np.dot(sent[lag:], played[: played.size - lag])) for lag in range(0, 2000, 8)]
    best_lag = int(np.argmax(corr)) * 8
    assert best_lag == 960  # 120 ms at 8 kHz
    gain = corr[best_lag // 8] / float(np.dot(played[: played.size - 960], played[:-960]))
    assert gain == pytest.approx(10 ** (-12 / 20), rel=0.1)
    assert result.connected


async def test_malformed_server_messages_are_recorded_not_fatal(clip: Path) -> None:
    garbage = ["not json", json.dumps({"event": "media", "media": {"payload": "%%%"}})]
    async with FakeBot(BotScript(garbage=garbage, greeting=tone(0.3))) as bot:
        result = await PhoneCaller(bot.url, "twilio", [Silence(0.3)], wait_for_greeting_s=1).run()
    assert len(result.errors) == 2
    assert "invalid JSON" in result.errors[0] and "base64" in result.errors[1]
    assert result.closed_by == "caller" and result.greeting_audio_s > 0.25


async def test_server_hangup_is_reported() -> None:
    async with FakeBot(BotScript(greeting=tone(0.2), close_after_s=0.3)) as bot:
        result = await PhoneCaller(bot.url, "twilio", [Silence(3.0)], wait_for_greeting_s=0).run()
    assert result.closed_by == "server" and result.close_code == 1000
    assert result.duration_s < 1.5


async def test_connect_failure_is_a_result() -> None:
    result = await PhoneCaller(
        "ws://127.0.0.1:9/ws", "twilio", [Silence(0.1)], connect_timeout_s=1
    ).run()
    assert not result.connected and result.errors
