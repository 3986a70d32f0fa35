"""sim.asterisk's protocol pieces without sockets: message formats, the frame queue, AGI text.

Expected strings are the ones chan_websocket.c / res_agi.c print (see the modules' docstrings).
"""

from __future__ import annotations

import json

import pytest

from sim.asterisk.agi import AgiChannel, AgiResult, _Dialplan, environment, parse_args, parse_url
from sim.asterisk.codecs import CODECS
from sim.asterisk.control import (
    Command,
    ControlFormat,
    Event,
    Rejected,
    mark_processed,
    parse_command,
    render,
)
from sim.asterisk.queue import FrameQueue

PLAIN, JSON = ControlFormat.PLAIN, ControlFormat.JSON


def test_optimal_frame_sizes_follow_codec_builtin() -> None:
    sizes = {name: c.optimal_frame_size for name, c in CODECS.items()}
    assert sizes == {"ulaw": 160, "alaw": 160, "slin": 320, "slin16": 640}


def test_events_render_as_asterisk_prints_them() -> None:
    start = Event(
        "MEDIA_START",
        {
            "connection_id": "ai_bot",
            "channel": "WebSocket/ai_bot/0x1",
            "format": "ulaw",
            "optimal_frame_size": 160,
            "ptime": 20,
            "channel_variables": {"AI_CID": "+1555"},
        },
    )
    assert render(start, PLAIN, "17.3") == (
        "MEDIA_START connection_id:ai_bot channel:WebSocket/ai_bot/0x1 channel_id:17.3 "
        "format:ulaw optimal_frame_size:160 ptime:20"
    )
    assert list(json.loads(render(start, JSON, "17.3"))) == [
        "event",
        "connection_id",
        "channel",
        "channel_id",
        "format",
        "optimal_frame_size",
        "ptime",
        "channel_variables",
    ]
    assert render(Event("DTMF_END", {"digit": "#"}), PLAIN, "17.3") == (
        "DTMF_END digit:# channel_id:17.3"
    )
    assert render(Event("MEDIA_XOFF"), PLAIN, "1.1") == "MEDIA_XOFF"
    assert render(Event("MEDIA_XOFF"), JSON, "1.1") == '{"event":"MEDIA_XOFF","channel_id":"1.1"}'
    assert render(mark_processed(None, PLAIN), PLAIN, "1.1") == "MEDIA_MARK_PROCESSED"
    assert render(mark_processed("m 1", PLAIN), PLAIN, "1.1") == "MEDIA_MARK_PROCESSED m 1"
    assert json.loads(render(mark_processed(None, JSON), JSON, "1.1"))["correlation_id"] == ""


def test_commands_parse_as_handle_command_reads_them() -> None:
    assert parse_command("  MARK_MEDIA my mark  ", PLAIN) == Command("MARK_MEDIA", "my mark")
    assert parse_command("FLUSH_MEDIA", PLAIN) == Command("FLUSH_MEDIA")
    cmd = parse_command('{"command":"MARK_MEDIA","correlation_id":"x"}', JSON)
    assert isinstance(cmd, Command) and cmd.name == "MARK_MEDIA" and cmd.correlation_id == "x"
    assert parse_command('{"correlation_id":"x"}', JSON) == Command(
        None, fields={"correlation_id": "x"}, is_json=True
    )
    # A JSON command on a plain-text channel is just an unknown command word.
    assert parse_command('{"command":"FLUSH_MEDIA"}', PLAIN).name == '{"command":"FLUSH_MEDIA"}'
    bad = parse_command("FLUSH_MEDIA", JSON)
    assert isinstance(bad, Rejected) and bad.reply is not None
    assert bad.reply.fields["error_text"] == "Unable to parse JSON command"
    assert isinstance(parse_command("", PLAIN), Rejected)
    assert isinstance(parse_command("M" * 128, PLAIN), Command)  # 128 is still accepted
    too_long = parse_command("M" * 129, PLAIN)
    assert isinstance(too_long, Rejected) and too_long.reply is None


def test_queue_xoff_at_900_xon_below_800_and_drop_at_1000() -> None:
    q = FrameQueue(160)
    assert q.push_media(bytes(160 * 899)) == []
    assert [e.name for e in q.push_media(bytes(160 * 200))] == ["MEDIA_XOFF"]
    assert q.length == 1099  # the 1000 limit is checked per message, not per frame
    q.push_media(bytes(160))
    assert q.counters.messages_dropped_full == 1 and q.length == 1099
    ticks = [q.tick() for _ in range(301)]
    xon = [i for i, t in enumerate(ticks) if [e.name for e in t.events] == ["MEDIA_XON"]]
    assert xon == [300]  # the tick that finds 799 frames queued
    assert q.counters.xon == 1 and q.queue_full is False


def test_queue_partial_frames_and_buffering() -> None:
    q = FrameQueue(160)
    q.push_media(bytes(250))
    assert q.length == 1 and q.counters.partial_frames_dropped == 1
    assert q.counters.partial_bytes_dropped == 90
    q.bulk = True  # START_MEDIA_BUFFERING: the tail waits for the next message
    q.push_media(bytes(250))
    q.push_media(bytes(100))
    assert q.length == 3 and q.leftover_bytes == 30
    events = q.stop_buffering(Event("MEDIA_BUFFERING_COMPLETED", {"correlation_id": "b"}))
    assert events == [] and q.length == 4
    played = [q.tick() for _ in range(5)]
    assert [len(t.frame.data) if t.frame else None for t in played] == [160, 160, 160, 30, None]
    assert [e.name for e in played[4].events] == ["MEDIA_BUFFERING_COMPLETED"]
    assert q.counters.short_frames_played == 1


def test_queue_marks_wait_for_audio_and_flush_drops_them() -> None:
    q = FrameQueue(160)
    q.push_media(bytes(320))
    q.push_event(Event("MEDIA_MARK_PROCESSED", {"correlation_id": "a"}))
    q.report_drained = True
    names = [[e.name for e in q.tick().events] for _ in range(4)]
    # The mark goes with the tick that reaches it; QUEUE_DRAINED with the next empty one.
    assert names == [[], [], ["MEDIA_MARK_PROCESSED"], ["QUEUE_DRAINED"]]
    q.push_media(bytes(160 * 950))
    q.push_event(Event("MEDIA_MARK_PROCESSED", {"correlation_id": "b"}))
    q.flush()
    assert q.counters.frames_flushed == 950 and q.counters.marks_flushed == 1
    assert [e.name for e in q.tick().events] == ["MEDIA_XON"]  # queue_full survives a flush


def test_paused_queue_plays_nothing() -> None:
    q = FrameQueue(160)
    q.push_media(bytes(160))
    q.paused = True
    assert q.tick().frame is None and q.length == 1


def test_agi_environment_order_and_url() -> None:
    assert parse_url("agi://10.0.0.5/register") == ("10.0.0.5", 4573, "register")
    assert parse_url("agi://bot:4600/after") == ("bot", 4600, "after")
    env = environment(
        "agi://bot:4600/register",
        ["u-1"],
        AgiChannel(uniqueid="17.1", callerid="+1555", dnid="2001"),
    )
    keys = [line.split(":")[0] for line in env.splitlines()]
    assert keys[:8] == [
        "agi_network",
        "agi_network_script",
        "agi_request",
        "agi_channel",
        "agi_language",
        "agi_type",
        "agi_uniqueid",
        "agi_version",
    ]
    assert keys[-3:] == ["agi_threadid", "agi_arg_1", ""] and env.endswith("\n\n")
    assert "agi_request: agi://bot:4600/register" in env
    assert "agi_calleridname: unknown" in env and "agi_dnid: 2001" in env


@pytest.mark.parametrize(
    ("line", "argv"),
    [
        ('SET VARIABLE AI_CNAME "Ada Lovelace"', ["SET", "VARIABLE", "AI_CNAME", "Ada Lovelace"]),
        ('SET VARIABLE X ""', ["SET", "VARIABLE", "X", ""]),
        (r"VERBOSE a\ b 1", ["VERBOSE", "a b", "1"]),
        ('VERBOSE "say \\"hi\\""', ["VERBOSE", 'say "hi"']),
        ('SET VARIABLE X "y"\r', ["SET", "VARIABLE", "X", "y\r"]),
    ],
)
def test_agi_parse_args(line: str, argv: list[str]) -> None:
    assert parse_args(line) == argv


def test_agi_answers() -> None:
    result = AgiResult(request="agi://x/register")
    plan = _Dialplan(AgiChannel(), result, dead=False)
    assert plan.answer('set variable AI_CID "+1555"') == ["200 result=1"]
    assert plan.answer("GET VARIABLE AI_CID") == ["200 result=1 (+1555)"]
    assert plan.answer("GET VARIABLE NOPE") == ["200 result=0"]
    assert plan.answer("SET VARIABLE X")[0].startswith("520-")
    assert plan.answer("FROB") == ["510 Invalid or unknown command"]
    assert plan.answer("HANGUP") == ["200 result=1", "HANGUP"]
    assert plan.answer("ANSWER") == [
        "511 Command Not Permitted on a dead channel or intercept routine"
    ]
    assert plan.answer("VERBOSE still-allowed") == ["200 result=1"]
    assert result.variables == {"AI_CID": "+1555"} and result.status == "HANGUP"
