"""Command line: one flag picks the transport, the rest is profile and environment.

python runner.py --transport twilio [--profile default] [--host 0.0.0.0] [--port 8765]
                 [--realtime-url wss://...] [--offline] [--workers N]
python runner.py --transport webrtc [--host 127.0.0.1] [--port 8765]   (the dev page only)
python runner.py --transport asterisk [--port P] [--agi-port 4573] [--agi-host 127.0.0.1]
python runner.py --transport audiosocket [--port P] [--audiosocket-port 9092] [--agi-port A]
python runner.py check [--realtime-url wss://...] [--profile default] [--timeout S]
python runner.py spend [--since YYYY-MM-DD] [--by profile|day|transport] [--json]
python runner.py --transport livekit --room NAME [--livekit-url URL] [--takeover]
python runner.py --transport livekit --dispatch [--host H] [--port P]
python runner.py --transport daily --room URL
python runner.py livekit-token --room NAME --identity ID [--ttl 1h]
"""

import argparse
import asyncio
import sys
from contextlib import AbstractAsyncContextManager, nullcontext

from loguru import logger

from bot.asterisk.agi_server import AGI_PORT
from bot.asterisk.audiosocket_server import AUDIOSOCKET_PORT
from bot.asterisk.lines import ASTERISK_TRANSPORTS, AsteriskLines, AsteriskOptions
from bot.config.errors import ConfigError
from bot.config.settings import Settings, load_settings
from bot.event_loop import run_event_loop
from bot.realtime.endpoint import realtime_endpoint
from bot.rooms.cli import (
    ROOM_TRANSPORTS,
    TOKEN_COMMAND,
    add_room_arguments,
    livekit_token_main,
    run_room,
)
from bot.security.redaction import Redactor, install_redacting_logging
from bot.telephony.app import (
    WorkerSpec,
    build_server,
    decide_dev_page,
    realtime_endpoint_in_thread,
    serve_workers,
    uvicorn_config,
)
from bot.telephony.graceful import DrainingServer
from bot.telephony.server import TelephonyServer
from bot.webrtc.access import DevPageAccess
from bot.webrtc.browser_call import WEBRTC_TRANSPORT
from pipelines.transports.telephony import TELEPHONY_PROVIDERS

DEFAULT_PORT = 8765


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runner.py", description="OpenAI Realtime voice bot on phone lines."
    )
    parser.add_argument(
        "--transport",
        required=True,
        choices=(*TELEPHONY_PROVIDERS, WEBRTC_TRANSPORT, *ASTERISK_TRANSPORTS, *ROOM_TRANSPORTS),
        help="line type to serve, or room to join",
    )
    parser.add_argument("--profile", help="profile name in bot/profiles/ or a YAML path")
    parser.add_argument("--host", default="0.0.0.0", help="bind address (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="HTTP/WS port")
    parser.add_argument(
        "--realtime-url", help="Realtime API base WebSocket URL (env OPENAI_REALTIME_URL)"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="server processes sharing the port, e.g. one per core (env WORKERS, default 1)",
    )
    parser.add_argument(
        "--offline",
        action="store_true",
        help="use the bundled Realtime emulator even if OPENAI_API_KEY is set",
    )
    asterisk = parser.add_argument_group("Asterisk (--transport asterisk | audiosocket)")
    asterisk.add_argument(
        "--audiosocket-port", type=int, default=AUDIOSOCKET_PORT, help="AudioSocket TCP port"
    )
    asterisk.add_argument("--agi-port", type=int, default=AGI_PORT, help="FastAGI port")
    asterisk.add_argument(
        "--agi-host", default="127.0.0.1", help="FastAGI bind address (default loopback)"
    )
    add_room_arguments(parser)
    return parser


def configure_logging(level: str, secrets: list[str] | None = None) -> None:
    # Every log line, from us, Pipecat or uvicorn, passes the one redacting sink.
    install_redacting_logging(level, Redactor(secrets or []))


def _simulated_call(args: argparse.Namespace) -> str:
    if args.transport == "asterisk":
        return f"sim.asterisk --url ws://127.0.0.1:{args.port}/asterisk --cname Ada"
    if args.transport == "audiosocket":
        agi = f"--agi 127.0.0.1:{args.agi_port}"
        return f"sim.asterisk --audiosocket 127.0.0.1:{args.audiosocket_port} {agi} --cname Ada"
    return f"sim.phone --url ws://127.0.0.1:{args.port}/ws"


def _say_offline_loudly(reason: str, args: argparse.Namespace) -> None:
    bar = "=" * 72
    logger.warning(
        f"\n{bar}\n  OFFLINE: {reason}.\n  Calls are answered by the bundled Realtime emulator "
        f"(sim/realtime), not OpenAI.\n  Place a simulated call and save the bot's reply:\n"
        f"    .venv/bin/python -m {_simulated_call(args)} "
        f"--say sim/audio/caller_order_status.wav --silence 3 --record bot_reply.wav\n{bar}"
    )


def _asterisk_lines(
    args: argparse.Namespace, server: TelephonyServer
) -> AbstractAsyncContextManager[object]:
    if args.transport not in ASTERISK_TRANSPORTS:
        return nullcontext()
    options = AsteriskOptions(
        audiosocket_host=args.host,
        audiosocket_port=args.audiosocket_port,
        agi_host=args.agi_host,
        agi_port=args.agi_port,
    )
    return AsteriskLines(server, options)


async def serve_telephony(args: argparse.Namespace, settings: Settings) -> None:
    async with realtime_endpoint(settings, offline=args.offline, url=args.realtime_url) as realtime:
        if realtime.emulated:
            reason = "--offline given" if args.offline else "no OPENAI_API_KEY"
            _say_offline_loudly(reason, args)
        server = build_server(
            args.transport, args.profile or settings.bot_profile, settings, realtime, args.host
        )
        async with _asterisk_lines(args, server):
            _log_serving(args, server)
            config = uvicorn_config(server.app, args.host, args.port, settings)
            await DrainingServer(config).serve()


def serve_telephony_workers(args: argparse.Namespace, settings: Settings, workers: int) -> None:
    with realtime_endpoint_in_thread(
        settings, offline=args.offline, url=args.realtime_url
    ) as realtime:
        if realtime.emulated:
            reason = "--offline given" if args.offline else "no OPENAI_API_KEY"
            _say_offline_loudly(reason, args)
        # Decided here too, so a bad DEV_PAGE stops the parent, not each worker.
        dev_page = decide_dev_page(args.transport, settings, args.host, emulated=realtime.emulated)
        spec = WorkerSpec(
            transport=args.transport,
            profile=args.profile or settings.bot_profile,
            realtime_url=realtime.url,
            emulated=realtime.emulated,
            host=args.host,
        )
        logger.info(
            f"serving {args.transport} on http://{args.host}:{args.port} with {workers} workers "
            f"(POST / webhook, WS /ws media, GET /health /ready /metrics), profile {spec.profile}"
        )
        _log_dev_page(args, dev_page)
        serve_workers(spec, args.host, args.port, workers, settings)


def _log_serving(args: argparse.Namespace, server: TelephonyServer) -> None:
    config = server.config
    endpoints = {
        "asterisk": "WS /asterisk",
        "audiosocket": f"AudioSocket TCP :{args.audiosocket_port}",
        WEBRTC_TRANSPORT: "GET / dev page, POST/PATCH /api/offer",
    }.get(args.transport, "POST / webhook, WS /ws media")
    logger.info(
        f"serving {args.transport} on http://{args.host}:{args.port} "
        f"({endpoints}, GET /health /ready /metrics), "
        f"profile {config.profile.name}, "
        f"tools: {', '.join(config.toolkit.names) or 'none'}, "
        f"processors: {', '.join(config.processors.names) or 'none'}"
    )
    _log_dev_page(args, server.dev_page)


def _log_dev_page(args: argparse.Namespace, access: DevPageAccess) -> None:
    if access.enabled:
        host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        logger.info(f"dev page: open http://{host}:{args.port}/ and click Call")
    else:
        logger.info(f"dev page off: {access.reason}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["check"]:
        from bot.realtime import doctor

        return doctor.main(argv[1:])
    if argv[:1] == ["spend"]:
        from bot import spend_report

        return spend_report.main(argv[1:])
    if argv[:1] == [TOKEN_COMMAND]:
        try:
            return livekit_token_main(argv[1:], load_settings())
        except ConfigError as e:
            print(str(e), file=sys.stderr)
            return 2
    args = build_parser().parse_args(argv)
    try:
        overrides = {"openai_realtime_url": args.realtime_url} if args.realtime_url else {}
        settings = load_settings(**overrides)
        configure_logging(settings.log_level, settings.secret_values())
        if args.transport in ROOM_TRANSPORTS:
            return asyncio.run(run_room(args, settings))
        workers = args.workers or settings.workers
        if workers < 1:
            raise ConfigError("WORKERS", "must be at least 1")
        if workers > 1 and args.transport in ASTERISK_TRANSPORTS:
            raise ConfigError(
                "WORKERS",
                f"must be 1 with --transport {args.transport}: FastAGI answers from the "
                "process that ran the call",
            )
        if workers > 1:
            serve_telephony_workers(args, settings, workers)
        else:
            run_event_loop(serve_telephony(args, settings))
    except ConfigError as e:
        print(str(e), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
