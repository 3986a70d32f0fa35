"""The bot's side of chan_websocket's control messages and of AudioSocket's framing, checked
against the shapes Asterisk prints (sim/asterisk/README.md has the sources)."""

import asyncio
import json
import uuid

import pytest

from pipelines.transports.asterisk.audiosocket import (
    AUDIO_KIND_RATES,
    HANGUP_MESSAGE,
    call_uuid,
    check_kind,
    message,
    read_message,
)
from pipelines.transports.asterisk.codecs import CHAN_WEBSOCKET_CODECS, slin_codec
from pipelines.transports.asterisk.control import (
    AsteriskProtocolError,
    ControlFormat,
    parse_event,
    parse_media_start,
    render_command,
)
from pipelines.transports.asterisk.transport import _whole_frame_chunk_ms, chan_websocket_codec
from pipelines.transports.paced_output import RealTimeClock

PLAIN, JSON = ControlFormat.PLAIN, ControlFormat.JSON
TEXT_START = (
    "MEDIA_START connection_id:ai_bot channel:WebSocket/ai_bot/0x7f01 channel_id:1754400000.7 "
    "format:ulaw optimal_frame_size:160 ptime:20"
)


def test_plain_text_media_start_gives_the_call_its_format_and_frame_size():
    media = parse_media_start(TEXT_START, 65536)
    assert media.control_format is PLAIN
    assert (media.channel_id, media.format, media.optimal_frame_size) == (
        "1754400000.7",
        "ulaw",
        160,
    )
    assert media.channel_variables == {}


def test_json_media_start_carries_the_channel_variables():
    start = {
        "event": "MEDIA_START",
        "connection_id": "ai_bot",
        "channel": "WebSocket/ai_bot/0x7f01",
        "channel_id": "1754400000.7",
        "format": "slin16",
        "optimal_frame_size": 640,
        "ptime": 20,
        "channel_variables": {"AI_CID": "+15551230000", "AI_CNAME": "Ada", "N": 3},
    }
    media = parse_media_start(json.dumps(start), 65536)
    assert media.control_format is JSON and media.format == "slin16"
    assert media.channel_variables == {"AI_CID": "+15551230000", "AI_CNAME": "Ada"}


def test_media_start_of_releases_without_channel_id_falls_back_to_the_channel_name():
    old = TEXT_START.replace(" channel_id:1754400000.7", "")
    assert parse_media_start(old, 65536).channel_id == "WebSocket/ai_bot/0x7f01"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("DTMF_END digit:5", "expected MEDIA_START first"),
        (
            TEXT_START.replace("optimal_frame_size:160", "optimal_frame_size:x"),
            "optimal_frame_size",
        ),
        ('{"event": "MEDIA_START"}', "connection_id"),
        ('{"event": "MEDIA_START", "connection_id": "c", "channel": 5}', "valid channel"),
        ("[1, 2]", "unknown chan_websocket event"),
    ],
)
def test_a_bad_start_is_refused_with_its_reason(text, reason):
    with pytest.raises(AsteriskProtocolError, match=reason):
        parse_media_start(text, 65536)


@pytest.mark.parametrize(
    ("text", "fmt", "name", "fields"),
    [
        ("DTMF_END digit:5 channel_id:1.2", PLAIN, "DTMF_END", {"digit": "5", "channel_id": "1.2"}),
        ("MEDIA_XOFF", PLAIN, "MEDIA_XOFF", {}),
        ("MEDIA_MARK_PROCESSED m12", PLAIN, "MEDIA_MARK_PROCESSED", {"correlation_id": "m12"}),
        ("MEDIA_MARK_PROCESSED", PLAIN, "MEDIA_MARK_PROCESSED", {"correlation_id": ""}),
        (
            "ERROR channel_id:1.2 error_text:Unable to parse JSON command",
            PLAIN,
            "ERROR",
            {"channel_id": "1.2", "error_text": "Unable to parse JSON command"},
        ),
        (
            '{"event":"QUEUE_DRAINED","channel_id":"1.2"}',
            JSON,
            "QUEUE_DRAINED",
            {"channel_id": "1.2"},
        ),
    ],
)
def test_events_parse_in_both_formats(text, fmt, name, fields):
    event = parse_event(text, fmt)
    assert (event.name, event.fields) == (name, fields)


@pytest.mark.parametrize(
    ("text", "fmt", "reason"),
    [
        ("FROBNICATE now", PLAIN, "unknown chan_websocket event 'FROBNICATE'"),
        ("MEDIA_XON " + "x" * 130, PLAIN, "control message of 140 bytes exceeds 128"),
        ("MEDIA_XON", JSON, "non-JSON control message"),
        ('{"event": 5}', JSON, "without a string 'event'"),
        ("DTMF_END digit", PLAIN, "malformed field"),
    ],
)
def test_anything_asterisk_does_not_send_is_a_protocol_error(text, fmt, reason):
    with pytest.raises(AsteriskProtocolError, match=reason):
        parse_event(text, fmt)


def test_commands_render_in_the_calls_format_within_asterisks_limit():
    assert render_command("FLUSH_MEDIA", PLAIN) == "FLUSH_MEDIA"
    assert render_command("MARK_MEDIA", PLAIN, "m3") == "MARK_MEDIA m3"
    assert json.loads(render_command("MARK_MEDIA", JSON, "m3")) == {
        "command": "MARK_MEDIA",
        "correlation_id": "m3",
    }
    with pytest.raises(ValueError, match="Asterisk would drop it"):
        render_command("MARK_MEDIA", JSON, "m" * 120)


def test_codecs_frame_maths_and_g711_choice():
    frames = {name: c.frame_bytes() for name, c in CHAN_WEBSOCKET_CODECS.items()}
    assert frames == {"ulaw": 160, "alaw": 160, "slin": 320, "slin16": 640}
    sessions = {name: c.session_g711 for name, c in CHAN_WEBSOCKET_CODECS.items()}
    assert sessions == {"ulaw": "pcmu", "alaw": "pcma", "slin": "pcmu", "slin16": None}
    ulaw = CHAN_WEBSOCKET_CODECS["ulaw"]
    wire = bytes(range(127))  # 0x7f and 0xff are both zero; the encoder gives 0xff
    pcm = ulaw.decode(wire)
    assert len(pcm) == 254 and ulaw.encode(pcm) == wire
    assert slin_codec(16000).frame_bytes() == 640 and slin_codec(8000).name == "slin"


def test_unknown_formats_are_refused_and_chunks_are_whole_frames():
    media = parse_media_start(TEXT_START.replace("format:ulaw", "format:g722"), 65536)
    with pytest.raises(AsteriskProtocolError, match="unsupported format 'g722'"):
        chan_websocket_codec(media)
    assert _whole_frame_chunk_ms(100, 20) == 100
    assert _whole_frame_chunk_ms(50, 20) == 60
    assert _whole_frame_chunk_ms(10, 20) == 20
    assert _whole_frame_chunk_ms(100, 30) == 120


def test_audiosocket_messages_are_kind_length_payload():
    assert message(0x10, b"\x01\x02") == b"\x10\x00\x02\x01\x02"
    assert HANGUP_MESSAGE == b"\x00\x00\x00"
    big = message(0x10, bytes(70_000))
    # Longer than the 16-bit length allows: several messages of the same kind.
    assert big[:3] == b"\x10\xff\xfe" and len(big) == 70_000 + 2 * 3


async def test_read_message_gives_kind_and_payload_and_raises_at_the_end():
    reader = asyncio.StreamReader()
    reader.feed_data(message(0x03, b"5") + message(0x00))
    reader.feed_eof()
    assert await read_message(reader) == b"\x035"
    assert await read_message(reader) == b"\x00"
    with pytest.raises(asyncio.IncompleteReadError):
        await read_message(reader)


def test_the_first_message_must_be_the_uuid():
    ident = uuid.uuid4()
    assert call_uuid(bytes([0x01]) + ident.bytes) == str(ident)
    with pytest.raises(AsteriskProtocolError, match="audio before the UUID"):
        call_uuid(bytes([0x10]) + bytes(320))
    with pytest.raises(AsteriskProtocolError, match="UUID message of 4 bytes"):
        call_uuid(bytes([0x01, 1, 2, 3, 4]))


@pytest.mark.parametrize(
    ("kind", "payload", "reason"),
    [
        (0x42, b"x", "unknown AudioSocket message kind 0x42"),
        (0x10, b"", "zero-length message of kind 0x10"),
        (0x03, b"", "zero-length message of kind 0x03"),
        (0xFF, b"\x02", "Asterisk sent an AudioSocket error message"),
    ],
)
def test_kinds_outside_the_protocol_or_empty_payloads_are_refused(kind, payload, reason):
    with pytest.raises(AsteriskProtocolError, match=reason):
        check_kind(kind, payload)


def test_every_audio_kind_and_the_hangup_are_accepted():
    for kind in (0x00, 0x02, *AUDIO_KIND_RATES):
        check_kind(kind, b"" if kind in (0x00, 0x02) else b"\x00\x00")


async def test_the_clock_keeps_written_audio_at_most_the_lead_ahead():
    clock = RealTimeClock(lead_s=0.02)
    await clock.wrote(0.02)  # first frame: nothing queued yet, no wait
    assert 0.015 < clock.unplayed_s() <= 0.02
    await clock.wrote(0.02)  # second: waits until only the lead is left
    assert clock.unplayed_s() <= 0.021
    clock.reset()
    assert clock.unplayed_s() == 0.0
