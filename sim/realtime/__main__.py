"""CLI: ``python -m sim.realtime --port 8800`` runs the emulator until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from loguru import logger

from sim.realtime.config import EmulatorConfig
from sim.realtime.faults import Faults
from sim.realtime.server import RealtimeEmulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m sim.realtime", description="OpenAI Realtime API (GA) emulator"
    )
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--api-key", default=None, help="require this Bearer key")
    p.add_argument("--bad-key", action="store_true", help="reject every key")
    p.add_argument("--model-not-found", action="store_true")
    p.add_argument("--drop-after", type=float, metavar="S")
    p.add_argument("--session-expired-after", type=float, metavar="S")
    p.add_argument("--first-audio-delay", type=float, metavar="S")
    p.add_argument("--no-session-updated", action="store_true")
    p.add_argument("--session-cap", type=float, default=3600.0, metavar="S")
    p.add_argument("--stream-speed", type=float, default=4.0)
    p.add_argument("--no-strict", action="store_true", help="skip self-validation of events")
    return p.parse_args(argv)


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    return EmulatorConfig(
        api_key=args.api_key,
        session_cap_s=args.session_cap,
        stream_speed=args.stream_speed,
        strict_events=not args.no_strict,
        faults=Faults(
            bad_key=args.bad_key,
            model_not_found=args.model_not_found,
            drop_after_s=args.drop_after,
            session_expired_after_s=args.session_expired_after,
            first_audio_delay_s=args.first_audio_delay,
            no_session_updated=args.no_session_updated,
        ),
    )


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
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(args))


if __name__ == "__main__":
    main()
