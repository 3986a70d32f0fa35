"""CLI: ``python -m sim.realtime --port 8800 [--script FILE]`` runs the emulator until Ctrl-C.

A script file (YAML or JSON) holds any :class:`EmulatorConfig` keys; flags given on the
command line override it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
from pathlib import Path

from loguru import logger

from sim.realtime.config import EmulatorConfig, script_schema
from sim.realtime.server import RealtimeEmulator

# flag → Faults field; each is a switch, a number of seconds or a count.
FAULT_FLAGS = {
    "bad_key": "bad_key",
    "model_not_found": "model_not_found",
    "drop_after": "drop_after_s",
    "session_expired_after": "session_expired_after_s",
    "first_audio_delay": "first_audio_delay_s",
    "no_session_updated": "no_session_updated",
    "rate_limited": "rate_limited",
    "http_status": "http_status",
    "rate_limited_responses": "rate_limited_responses",
    "rate_limited_responses_after": "rate_limited_responses_after",
    "retry_after": "retry_after_s",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m sim.realtime", description="OpenAI Realtime API (GA) emulator"
    )
    p.add_argument("--port", type=int)
    p.add_argument("--schema", action="store_true", help="print the script's JSON schema, exit")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--script", type=Path, metavar="FILE", help="conversation script (YAML/JSON)")
    p.add_argument(
        "--clips",
        type=Path,
        action="append",
        metavar="DIR",
        help="caller WAVs with a .txt transcript beside each, recognised by transcription",
    )
    p.add_argument(
        "--models",
        metavar="A,B",
        help="accept only these model names (fnmatch patterns); default gpt-realtime*, "
        "gpt-4o*-realtime*",
    )
    p.add_argument("--api-key", default=None, help="require this Bearer key")
    p.add_argument("--bad-key", action="store_true", default=None, help="reject every key")
    p.add_argument("--model-not-found", action="store_true", default=None)
    p.add_argument("--drop-after", type=float, metavar="S")
    p.add_argument("--session-expired-after", type=float, metavar="S")
    p.add_argument("--first-audio-delay", type=float, metavar="S")
    p.add_argument("--no-session-updated", action="store_true", default=None)
    p.add_argument(
        "--rate-limited",
        action="store_true",
        default=None,
        help="answer every connection with rate_limit_exceeded instead of a session",
    )
    p.add_argument(
        "--http-status", type=int, metavar="CODE", help="refuse every upgrade (e.g. 429)"
    )
    p.add_argument(
        "--rate-limited-responses",
        type=int,
        metavar="N",
        help="refuse N responses in a row (response.done failed, rate_limit_exceeded)",
    )
    p.add_argument(
        "--rate-limited-responses-after",
        type=int,
        metavar="K",
        help="answer K responses normally before the refusals (default 0)",
    )
    p.add_argument("--retry-after", type=float, metavar="S", help="the refusals' retry hint")
    p.add_argument("--session-cap", type=float, metavar="S", help="default 3600")
    p.add_argument("--stream-speed", type=float, help="default 4 (x real time)")
    p.add_argument("--no-strict", action="store_true", help="skip self-validation of events")
    args = p.parse_args(argv)
    if args.port is None and not args.schema:
        p.error("--port is required")
    return args


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    config = EmulatorConfig.from_file(args.script) if args.script else EmulatorConfig()
    overrides: dict = {}
    if args.api_key is not None:
        overrides["api_key"] = args.api_key
    if args.session_cap is not None:
        overrides["session_cap_s"] = args.session_cap
    if args.stream_speed is not None:
        overrides["stream_speed"] = args.stream_speed
    if args.no_strict:
        overrides["strict_events"] = False
    if args.models:
        overrides["known_models"] = [m.strip() for m in args.models.split(",") if m.strip()]
    if args.clips:
        overrides["caller_clip_dirs"] = [*config.caller_clip_dirs, *args.clips]
    faults = {
        field: getattr(args, flag)
        for flag, field in FAULT_FLAGS.items()
        if getattr(args, flag) is not None
    }
    if faults:
        overrides["faults"] = config.faults.model_copy(update=faults)
    # Validate the merged settings as a whole, as a script file would be.
    return EmulatorConfig.model_validate({**config.model_dump(), **overrides})


async def serve_forever(args: argparse.Namespace) -> None:
    emulator = RealtimeEmulator(config_from_args(args))
    await emulator.start(host=args.host, port=args.port)
    logger.info(f"realtime emulator listening on {emulator.url}")
    stop = asyncio.Event()
    with contextlib.suppress(NotImplementedError):
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.schema:
        print(json.dumps(script_schema(), indent=2))
        return
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(args))


if __name__ == "__main__":
    main()
