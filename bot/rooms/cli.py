"""The room transports on the command line: `--transport livekit|daily`, `--dispatch`, and the
`livekit-token` command. runner.py hands over here; exit codes: 0 done, 1 could not join,
2 configuration error (raised as ConfigError to runner.py), 3 refused (room has a bot, or
the day's budget is spent)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

import uvicorn
from livekit import api
from loguru import logger

from bot.call.fallback_prompt import check_fallback_audio
from bot.call.pricing import load_price_table
from bot.call.processor_kit import ProcessorKit
from bot.call.tool_kit import ToolKit
from bot.config.errors import ConfigError
from bot.config.profiles import Profile, load_profile
from bot.config.settings import Settings
from bot.realtime.endpoint import realtime_endpoint
from bot.rooms.daily_bot import run_daily_room
from bot.rooms.livekit_bot import (
    EXIT_REFUSED,
    RoomRefused,
    check_room_before_joining,
    run_room_call,
    server_evictor,
)
from bot.rooms.livekit_dispatch import WEBHOOK_PATH, DispatchServer
from bot.rooms.livekit_room import RoomPolicy
from bot.rooms.livekit_tokens import (
    agent_credentials,
    mint_participant_token,
    parse_ttl,
    require_server_keys,
)
from bot.rooms.processes import RoomProcesses
from bot.telephony.daily_budget import DailySpend
from bot.telephony.realtime_sessions import SESSIONS_SUBDIR, RealtimeSessionSlots

ROOM_TRANSPORTS = ("livekit", "daily")
TOKEN_COMMAND = "livekit-token"


def add_room_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--room", help="LiveKit room name, or Daily room URL")
    parser.add_argument("--livekit-url", help="LiveKit server URL (env LIVEKIT_URL)")
    parser.add_argument(
        "--dispatch",
        action="store_true",
        help="LiveKit: serve webhooks and run one bot process per room",
    )
    parser.add_argument(
        "--takeover",
        action="store_true",
        help="LiveKit: remove an agent already in the room instead of refusing to join",
    )


async def run_room(args: argparse.Namespace, settings: Settings) -> int:
    if args.transport == "livekit" and args.dispatch:
        return await serve_dispatch(args, settings)
    if not args.room:
        raise ConfigError("--room", f"required with --transport {args.transport}")
    profile = load_profile(args.profile or settings.bot_profile)
    check_fallback_audio(profile)
    # Checked before joining: a bad tool or processor list must not reach a live room.
    toolkit = ToolKit.from_profile(profile, settings)
    processors = ProcessorKit.from_profile(profile)
    if budget_refusal := DailySpend(settings.records_dir, settings.daily_budget_usd).refusal():
        logger.error(f"{args.transport}: not joining room {args.room}: {budget_refusal}")
        return EXIT_REFUSED
    sessions = RealtimeSessionSlots(
        settings.records_dir / SESSIONS_SUBDIR, settings.max_realtime_sessions
    )
    with sessions.claim() as claimed:
        if not claimed:
            logger.error(
                f"{args.transport}: not joining room {args.room}: {sessions.capacity} Realtime "
                "sessions in use on this host (MAX_REALTIME_SESSIONS)"
            )
            return EXIT_REFUSED
        return await _join_room(args, settings, profile, toolkit, processors)


async def _join_room(
    args: argparse.Namespace,
    settings: Settings,
    profile: Profile,
    toolkit: ToolKit,
    processors: ProcessorKit,
) -> int:
    if args.transport == "daily":
        async with realtime_endpoint(settings, offline=args.offline) as realtime:
            await run_daily_room(args.room, profile, settings, realtime)
        return 0
    credentials = agent_credentials(settings, args.room, args.livekit_url)
    if credentials.has_server_api:
        try:
            await check_room_before_joining(credentials, args.room, takeover=args.takeover)
        except RoomRefused as e:
            logger.error(
                f"livekit: agent {e.args[0]} is already in room {args.room}; not joining "
                "(one bot per room; --takeover replaces it)"
            )
            return EXIT_REFUSED
    evict = server_evictor(credentials, args.room) if credentials.has_server_api else None
    # SIGTERM (the dispatcher's shutdown, docker stop) ends the call with its record written.
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with realtime_endpoint(settings, offline=args.offline) as realtime:
        outcome = await run_room_call(
            room=args.room,
            credentials=credentials,
            profile=profile,
            settings=settings,
            realtime=realtime,
            prices=load_price_table(settings.prices_file),
            policy=RoomPolicy(leave_grace_s=settings.livekit_leave_grace_s, takeover=args.takeover),
            evict=evict,
            stop=stop,
            toolkit=toolkit,
            processors=processors,
        )
    if not outcome.joined:
        logger.error(f"livekit: could not join room {args.room} at {credentials.url}")
    return outcome.exit_code


def _bot_args(args: argparse.Namespace) -> list[str]:
    """The dispatcher's own choices, passed on to every room's bot."""
    extra = []
    for flag, value in (
        ("--profile", args.profile),
        ("--realtime-url", args.realtime_url),
        ("--livekit-url", args.livekit_url),
    ):
        if value:
            extra += [flag, value]
    return extra + (["--offline"] if args.offline else [])


async def serve_dispatch(args: argparse.Namespace, settings: Settings) -> int:
    key, secret = require_server_keys(settings)
    load_profile(args.profile or settings.bot_profile)  # fail here, not in every child
    processes = RoomProcesses(settings.livekit_max_rooms, extra_args=_bot_args(args))
    server = DispatchServer(api.WebhookReceiver(api.TokenVerifier(key, secret)), processes)
    logger.info(
        f"dispatch: LiveKit webhooks on http://{args.host}:{args.port}{WEBHOOK_PATH}, "
        f"at most {processes.limit} rooms"
    )
    http = uvicorn.Server(
        uvicorn.Config(server.app, host=args.host, port=args.port, log_level="warning")
    )
    try:
        await http.serve()
    finally:
        await processes.stop_all()
    return 0


def livekit_token_main(argv: list[str], settings: Settings) -> int:
    parser = argparse.ArgumentParser(
        prog=f"runner.py {TOKEN_COMMAND}",
        description="Print a token for a person to join a LiveKit room (join that room only).",
    )
    parser.add_argument("--room", required=True)
    parser.add_argument("--identity", required=True)
    parser.add_argument("--ttl", default="1h", help="lifetime: 90s, 30m, 1h, 2d (default 1h)")
    args = parser.parse_args(argv)
    try:
        ttl = parse_ttl(args.ttl)
    except ValueError as e:
        raise ConfigError("--ttl", str(e)) from None
    key, secret = require_server_keys(settings)
    token = mint_participant_token(key, secret, args.room, args.identity, ttl)
    print(token)
    url = settings.livekit_url or "<your LIVEKIT_URL>"
    print(
        f"\n# {args.identity} may join room {args.room!r} for {args.ttl}. Open\n"
        f"#   https://meet.livekit.io/custom?liveKitUrl={url}&token={token}\n"
        f"# or paste LIVEKIT_URL and this token into https://agents-playground.livekit.io",
        file=sys.stderr,
    )
    return 0
