"""Command line: Asterisk places one scripted call to the bot; prints one JSON result line.

    python -m sim.asterisk --url ws://127.0.0.1:8765/asterisk --codec ulaw --format json \\
        --say a.wav --silence 3 --dtmf 12# --cid +15551230000 --cname "Ada Lovelace" \\
        --did 2001 --record heard.wav
    python -m sim.asterisk --audiosocket 127.0.0.1:9092 --rate 16000 --agi 127.0.0.1:4573 \\
        --say a.wav --silence 3
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from sim.asterisk.audiosocket import AudioSocketCall
from sim.asterisk.codecs import CODECS
from sim.asterisk.dialplan import call_with_agi
from sim.asterisk.websocket_channel import AsteriskWebSocketCall
from sim.asterisk.websocket_session import DIRECTIONS
from sim.phone.cli import add_caller_options, add_step_options, key_value, start_caller


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m sim.asterisk",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    line = p.add_mutually_exclusive_group(required=True)
    line.add_argument("--url", help="chan_websocket: the bot's WebSocket, ws://HOST:PORT/asterisk")
    line.add_argument("--audiosocket", type=_host_port, metavar="HOST:PORT")
    add_step_options(p)
    p.add_argument("--codec", default="ulaw", choices=sorted(CODECS), help="chan_websocket")
    p.add_argument(
        "--format",
        default="json",
        choices=("json", "text", "plain-text"),
        help="chan_websocket control messages",
    )
    p.add_argument("--rate", type=int, default=8000, choices=(8000, 16000), help="AudioSocket")
    p.add_argument("--cid", default="+15551230000", help="caller number")
    p.add_argument("--cname", default=None, help="caller name")
    p.add_argument("--did", default="2001", help="dialled number")
    p.add_argument(
        "--var", type=key_value, action="append", default=[], metavar="K=V", help="channel var"
    )
    p.add_argument("--connection-id", default="ai_bot", help="websocket_client.conf section")
    p.add_argument("--no-auto-answer", action="store_true", help="dial option n: wait for ANSWER")
    p.add_argument("--direction", default="both", choices=DIRECTIONS, help="dial option d()")
    p.add_argument("--uuid", default=None, help="AudioSocket UUID (random by default)")
    p.add_argument("--agi", default=None, metavar="HOST:PORT", help="FastAGI register/after")
    p.add_argument("--agi-timeout", type=float, default=5.0, metavar="S")
    add_caller_options(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    echo = start_caller(args)
    call: AsteriskWebSocketCall | AudioSocketCall
    if args.audiosocket:
        host, port = args.audiosocket
        call = AudioSocketCall(
            host,
            port,
            steps=args.steps,
            rate=args.rate,
            call_uuid=args.uuid,
            wait_for_greeting_s=args.wait_greeting,
            echo=echo,
            record_path=args.record,
            connect_timeout_s=args.connect_timeout,
        )
    else:
        call = AsteriskWebSocketCall(
            args.url,
            steps=args.steps,
            codec_name=args.codec,
            control_format=args.format,
            caller_number=args.cid,
            caller_name=args.cname,
            dialed_number=args.did,
            channel_variables=dict(args.var),
            connection_id=args.connection_id,
            auto_answer=not args.no_auto_answer,
            media_direction=args.direction,
            wait_for_greeting_s=args.wait_greeting,
            echo=echo,
            record_path=args.record,
            connect_timeout_s=args.connect_timeout,
        )
    if args.agi:
        run = call_with_agi(call, args.agi, args.cid, args.cname, args.did, args.agi_timeout)
    else:
        run = call.run()
    result = asyncio.run(run)
    print(result.to_json(), flush=True)
    if not result.connected:
        print(f"call did not connect: {'; '.join(result.errors)}", file=sys.stderr)
        return 1
    return 0
