"""One bot in one LiveKit room: `python runner.py --transport livekit --room NAME`.

Before joining, when the API key is known, the server is asked who is in the room: wrong
credentials then fail in one line at start-up, and a room that already has a bot is refused
(or taken over) before this bot publishes anything.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from livekit import api
from loguru import logger

from bot.call.call import Call, RealtimeEndpoint
from bot.call.pricing import PriceTable
from bot.call.processor_kit import ProcessorKit
from bot.call.record import CallRecord
from bot.call.tool_kit import ToolKit
from bot.config.errors import ConfigError
from bot.config.profiles import Profile
from bot.config.settings import Settings
from bot.rooms.livekit_room import Evictor, RoomPolicy, RoomSession
from bot.rooms.livekit_tokens import AgentCredentials
from bot.rooms.participants import SIP_KIND, is_agent
from bot.rooms.spec import room_call_spec
from pipelines.call_control.livekit import LiveKitCallControl, ServerApi
from pipelines.composer import PipelineSlots
from pipelines.transports.livekit import ROOM_SAMPLE_RATE, create_livekit_transport
from processors.participant_audio_filter import ParticipantAudioFilter

EXIT_NOT_JOINED = 1
EXIT_REFUSED = 3


class RoomRefused(Exception):
    """Another agent is already in the room and --takeover was not given."""


@dataclass
class RoomOutcome:
    record: CallRecord
    joined: bool
    refused_by: str | None

    @property
    def exit_code(self) -> int:
        if self.refused_by:
            return EXIT_REFUSED
        return 0 if self.joined else EXIT_NOT_JOINED


async def run_room_call(
    *,
    room: str,
    credentials: AgentCredentials,
    profile: Profile,
    settings: Settings,
    realtime: RealtimeEndpoint,
    prices: PriceTable | None = None,
    policy: RoomPolicy | None = None,
    evict: Evictor | None = None,
    stop: asyncio.Event | None = None,
    toolkit: ToolKit | None = None,
    processors: ProcessorKit | None = None,
    server: ServerApi | None = None,
) -> RoomOutcome:
    """Join, talk with the first human who arrives, leave; the record is written either way.
    Setting `stop` (e.g. on SIGTERM) ends the call early, still with its record."""
    transport = create_livekit_transport(credentials.url, credentials.token, room)
    spec = room_call_spec(
        transport_name="livekit",
        call_id_prefix=f"lk-{room}",
        profile=profile,
        settings=settings,
        realtime=realtime,
        sample_rate=ROOM_SAMPLE_RATE,
        prices=prices,
        toolkit=toolkit,
        processors=processors,
    )

    def sip_caller() -> str | None:
        identity = session.caller_id
        participant = transport.room.remote_participants.get(identity) if identity else None
        return identity if participant is not None and participant.kind == SIP_KIND else None

    control = LiveKitCallControl(
        room,
        sip_caller,
        server or ((lambda: server_api(credentials)) if credentials.has_server_api else None),
        sip_hangup=profile.tool_settings.sip_hangup,
    )
    audio_filter = ParticipantAudioFilter()
    slots = PipelineSlots(input_filters=[audio_filter])
    call = Call(spec, transport, slots=slots, client_events=False, call_control=control)
    policy = policy or RoomPolicy(leave_grace_s=settings.livekit_leave_grace_s)
    session = RoomSession(call, transport, audio_filter, policy, evict)
    session.attach()
    logger.info(f"livekit: joining room {room} at {credentials.url} as {credentials.identity}")

    async def end_on_stop() -> None:
        await stop.wait()
        await call.end("bot stopped", cancel=True)

    stopper = asyncio.create_task(end_on_stop()) if stop is not None else None
    try:
        record = await call.run()
    finally:
        session.close()
        if stopper is not None:
            stopper.cancel()
    return RoomOutcome(record=record, joined=transport.joined, refused_by=session.refused_by)


def server_api(credentials: AgentCredentials) -> api.LiveKitAPI:
    # No region failover: a start-up check should fail fast and say why.
    return api.LiveKitAPI(
        credentials.url, credentials.api_key, credentials.api_secret, failover=False
    )


async def check_room_before_joining(
    credentials: AgentCredentials, room: str, *, takeover: bool
) -> None:
    """Ask the server who is in `room`.

    Raises:
        ConfigError: the server rejects the key or secret.
        RoomRefused: another agent is there and `takeover` is off.
    """
    async with server_api(credentials) as lkapi:
        try:
            listing = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
        except api.TwirpError as e:
            if e.status in (401, 403):
                raise ConfigError(
                    "LIVEKIT_API_SECRET", f"rejected by {credentials.url} ({e.code}: {e.message})"
                ) from None
            if e.status == 404:
                return  # the room does not exist yet; joining creates it
            raise ConfigError("LIVEKIT_URL", f"server answered {e.status} {e.code}") from None
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            reason = f"cannot reach {credentials.url} ({type(e).__name__}: {e})"
            raise ConfigError("LIVEKIT_URL", reason) from None
        agents = [p.identity for p in listing.participants if is_agent(p)]
        if not agents:
            return
        if not takeover:
            raise RoomRefused(agents[0])
        for identity in agents:
            logger.warning(f"livekit: removing agent {identity} from room {room} (--takeover)")
            await lkapi.room.remove_participant(
                api.RoomParticipantIdentity(room=room, identity=identity)
            )


def server_evictor(credentials: AgentCredentials, room: str) -> Evictor:
    async def evict(identity: str) -> None:
        async with server_api(credentials) as lkapi:
            await lkapi.room.remove_participant(
                api.RoomParticipantIdentity(room=room, identity=identity)
            )

    return evict
