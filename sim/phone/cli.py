"""Command line: place one scripted call and print its CallResult as one JSON line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from typing import Any

from sim.phone.caller import PhoneCaller
from sim.phone.protocol import PROVIDERS
from sim.phone.steps import Dtmf, EchoPath, Hangup, Say, Silence, Step


class _StepAction(argparse.Action):
    """Appends to one shared ``steps`` list so flag order on the command line is script order."""

    def __init__(self, *args: Any, step: type, **kwargs: Any) -> None:
        self._step = step
        super().__init__(*args, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        steps: list[Step] = list(getattr(namespace, "steps", None) or [])
        if self._step is Hangup:
            steps.append(Hangup(after_bot_audio_s=float(values)))
        else:
            steps.append(self._step(values))
        namespace.steps = steps


def key_value(text: str) -> tuple[str, str]:
    """argparse type for K=V options."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected k=v, got {text!r}")
    return key, value


def add_step_options(p: argparse.ArgumentParser) -> None:
    """The call-script flags (--say, --silence, --dtmf, --hangup-after-bot-audio), kept in
    command-line order in ``namespace.steps``; shared by every simulated caller's CLI."""
    p.add_argument("--say", dest="steps", action=_StepAction, step=Say, metavar="WAV")
    p.add_argument(
        "--silence", dest="steps", action=_StepAction, step=Silence, type=float, metavar="S"
    )
    p.add_argument("--dtmf", dest="steps", action=_StepAction, step=Dtmf, metavar="DIGITS")
    p.add_argument(
        "--hangup-after-bot-audio",
        dest="steps",
        action=_StepAction,
        step=Hangup,
        type=float,
        metavar="S",
        help="hang up once the bot has sent this many seconds of audio in the current turn",
    )
    p.set_defaults(steps=[])


def add_caller_options(p: argparse.ArgumentParser) -> None:
    """What every simulated caller's CLI offers besides its script: recording what the
    caller heard, an echo path, waits, logging."""
    p.add_argument("--record", default=None, metavar="OUT.wav")
    p.add_argument("--echo-delay-ms", type=float, default=None)
    p.add_argument("--echo-gain-db", type=float, default=-12.0)
    p.add_argument("--wait-greeting", type=float, default=10.0, metavar="S")
    p.add_argument("--connect-timeout", type=float, default=5.0, metavar="S")
    p.add_argument("-v", "--verbose", action="store_true")


def start_caller(args: argparse.Namespace) -> EchoPath | None:
    """Logging as the flags ask; the echo path the caller's line adds, if any."""
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return EchoPath(args.echo_delay_ms / 1000, args.echo_gain_db) if args.echo_delay_ms else None


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m sim.phone", description=__doc__)
    p.add_argument("--url", required=True, help="bot media-stream WebSocket, ws://HOST:PORT/ws")
    p.add_argument("--provider", default="twilio", choices=PROVIDERS)
    add_step_options(p)
    p.add_argument("--caller-number", default="+15551230000")
    p.add_argument("--called-number", default="+15559870000")
    p.add_argument("--caller-name", default=None)
    p.add_argument("--param", type=key_value, action="append", default=[], metavar="K=V")
    add_caller_options(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    echo = start_caller(args)
    caller = PhoneCaller(
        url=args.url,
        provider=args.provider,
        steps=args.steps,
        caller_number=args.caller_number,
        caller_name=args.caller_name,
        called_number=args.called_number,
        custom_parameters=dict(args.param),
        wait_for_greeting_s=args.wait_greeting,
        echo=echo,
        record_path=args.record,
        connect_timeout_s=args.connect_timeout,
    )
    result = asyncio.run(caller.run())
    print(result.to_json(), flush=True)
    if not result.connected:
        print(f"call did not connect: {'; '.join(result.errors)}", file=sys.stderr)
        return 1
    return 0
