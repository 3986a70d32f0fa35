"""The two Asterisk serializers: caller audio and events in, whole frames and commands out,
and the call's channel state (flow control, marks, queue drained) kept from the events."""

import asyncio
import json

import pytest
from pipecat.frames.frames import (
    InputAudioRawFrame,
    InputDTMFFrame,
    InterruptionFrame,
    OutputAudioRawFrame,
)

from pipelines.transports.asterisk.audiosocket import AudioSocketSerializer, CallerHungUp, message
from pipelines.transports.asterisk.channel import AsteriskChannel, PlayedAudio
from pipelines.transports.asterisk.codecs import CHAN_WEBSOCKET_CODECS, slin_codec
from pipelines.transports.asterisk.control import (
    AsteriskProtocolError,
    ControlFormat,
    MediaStart,
)
from pipelines.transports.asterisk.serializer import AsteriskFrameSerializer


def media_start(fmt: str = "ulaw", control=ControlFormat.PLAIN) -> MediaStart:
    size = CHAN_WEBSOCKET_CODECS[fmt].frame_bytes()
    return MediaStart("ai_bot", "WebSocket/ai_bot/0x1", "1.7", fmt, size, 20, control)


def serializer_for(fmt: str = "ulaw", control=ControlFormat.PLAIN):
    media = media_start(fmt, control)
    channel = AsteriskChannel(media, CHAN_WEBSOCKET_CODECS[fmt])
    sent: list[str | bytes] = []

    async def send(data):
        sent.append(data)

    channel.bind(send)
    return AsteriskFrameSerializer(channel, max_bytes=65536), channel, sent


def pcm(ms: int, rate: int = 8000) -> bytes:
    return b"\x10\x00" * (rate * ms // 1000)


async def test_caller_audio_is_decoded_at_the_lines_rate():
    serializer, _, _ = serializer_for("slin16")
    frame = await serializer.deserialize(pcm(20, 16000))
    assert isinstance(frame, InputAudioRawFrame)
    assert (frame.sample_rate, len(frame.audio)) == (16000, 640)
    assert serializer.last_media_at is not None


async def test_bot_audio_leaves_in_whole_frames_and_carries_the_rest():
    serializer, _, _ = serializer_for("ulaw")
    # 25 ms of 8 kHz PCM = 200 μ-law bytes: one 160-byte frame now, 40 bytes carried.
    first = await serializer.serialize(OutputAudioRawFrame(pcm(25), 8000, 1))
    second = await serializer.serialize(OutputAudioRawFrame(pcm(15), 8000, 1))
    assert len(first) == 160 and len(second) == 160


async def test_an_interruption_flushes_asterisks_queue_and_the_carried_rest():
    serializer, channel, _ = serializer_for("ulaw", ControlFormat.JSON)
    await serializer.serialize(OutputAudioRawFrame(pcm(25), 8000, 1))
    flush = await serializer.serialize(InterruptionFrame())
    assert json.loads(flush) == {"command": "FLUSH_MEDIA"}
    after = await serializer.serialize(OutputAudioRawFrame(pcm(20), 8000, 1))
    assert len(after) == 160  # nothing of the interrupted answer rides along
    assert channel.last_barge_in_played_s == 0.0


async def test_dtmf_reaches_the_pipeline_and_odd_keys_are_ignored():
    serializer, _, _ = serializer_for()
    frame = await serializer.deserialize("DTMF_END digit:7 channel_id:1.7")
    assert isinstance(frame, InputDTMFFrame) and frame.button.value == "7"
    assert await serializer.deserialize("DTMF_END digit:A channel_id:1.7") is None


async def test_xoff_holds_writes_until_xon():
    serializer, channel, _ = serializer_for()
    await serializer.deserialize("MEDIA_XOFF")
    waiting = asyncio.create_task(channel.ready_to_write())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    await serializer.deserialize("MEDIA_XON")
    await asyncio.wait_for(waiting, 1)


async def test_marks_tell_how_much_of_the_utterance_has_played():
    serializer, channel, sent = serializer_for()
    await channel.written(800)  # 100 ms of μ-law
    await channel.written(800)
    assert sent == ["MARK_MEDIA m1", "MARK_MEDIA m2"]
    await serializer.deserialize("MEDIA_MARK_PROCESSED m1")
    assert channel.played.played_s == pytest.approx(0.1)
    await serializer.deserialize("MEDIA_MARK_PROCESSED m9")  # not ours: ignored
    assert channel.played.played_s == pytest.approx(0.1)
    channel.interrupted()
    assert channel.last_barge_in_played_s == pytest.approx(0.1)
    await serializer.deserialize("MEDIA_MARK_PROCESSED m2")  # flushed: never counts
    assert channel.played.played_s == 0.0


async def test_hang_up_waits_for_queue_drained_then_sends_hangup():
    serializer, channel, sent = serializer_for()
    hang_up = asyncio.create_task(channel.hang_up_after_playout(timeout_s=2))
    await asyncio.sleep(0.05)
    assert sent == ["REPORT_QUEUE_DRAINED"]
    await serializer.deserialize("QUEUE_DRAINED")
    waited = await asyncio.wait_for(hang_up, 1)
    assert sent == ["REPORT_QUEUE_DRAINED", "HANGUP"] and waited < 1


async def test_hang_up_goes_out_at_the_timeout_without_queue_drained():
    _, channel, sent = serializer_for()
    waited = await channel.hang_up_after_playout(timeout_s=0.1)
    assert sent == ["REPORT_QUEUE_DRAINED", "HANGUP"] and waited >= 0.1


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("HELLO there", "unknown chan_websocket event 'HELLO'"),
        ("MEDIA_XON" + " " * 200, "exceeds 128"),
        ("MEDIA_START connection_id:a channel:b format:ulaw", "a second MEDIA_START"),
        (b"\x00" * 3, "slin16 media of 3 bytes"),
    ],
)
async def test_protocol_violations_are_recorded_and_end_the_receive_loop(data, reason):
    serializer, _, _ = serializer_for("slin16")
    with pytest.raises(AsteriskProtocolError):
        await serializer.deserialize(data)
    assert reason in serializer.violation


async def test_non_json_in_a_json_call_is_a_violation():
    serializer, _, _ = serializer_for("ulaw", ControlFormat.JSON)
    with pytest.raises(AsteriskProtocolError):
        await serializer.deserialize("MEDIA_XOFF")
    assert serializer.violation.startswith("non-JSON control message")


def test_played_audio_resets_per_utterance():
    played = PlayedAudio()
    played.reached(played.wrote(0.1))
    assert played.new_utterance() == pytest.approx(0.1)
    mark = played.wrote(0.1)
    assert played.reached(mark) and played.played_s == pytest.approx(0.1)


async def test_audiosocket_audio_dtmf_and_the_bots_answer():
    serializer = AudioSocketSerializer(slin_codec(16000))
    frame = await serializer.deserialize(b"\x12" + pcm(20, 16000))
    assert isinstance(frame, InputAudioRawFrame) and frame.sample_rate == 16000
    dtmf = await serializer.deserialize(b"\x035")
    assert isinstance(dtmf, InputDTMFFrame) and dtmf.button.value == "5"
    assert await serializer.deserialize(b"\x02") is None  # silence
    out = await serializer.serialize(OutputAudioRawFrame(pcm(20, 16000), 16000, 1))
    assert out == message(0x12, pcm(20, 16000))
    assert await serializer.serialize(InterruptionFrame()) is None


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"\x10" + pcm(20), "audio at 8000 Hz on a 16000 Hz call"),
        (b"\x7e\x00", "unknown AudioSocket message kind 0x7e"),
        (b"\x12", "zero-length message of kind 0x12"),
        (b"\x01" + bytes(16), "a second UUID"),
        (b"\x12\x00\x00\x00", "odd"),
    ],
)
async def test_audiosocket_violations_end_the_call_with_a_reason(data, reason):
    serializer = AudioSocketSerializer(slin_codec(16000))
    with pytest.raises(AsteriskProtocolError):
        await serializer.deserialize(data)
    assert reason in serializer.violation


async def test_audiosocket_hangup_from_asterisk_is_a_caller_hang_up():
    serializer = AudioSocketSerializer(slin_codec(8000))
    with pytest.raises(CallerHungUp):
        await serializer.deserialize(b"\x00")
    assert serializer.violation is None
