"""One bot in one Daily room: greet the first participant, leave when they do."""

from loguru import logger

from bot.call.call import Call, RealtimeEndpoint
from bot.call.record import CallRecord
from bot.config.caller_info import CallerInfo
from bot.config.profiles import Profile
from bot.config.settings import Settings
from bot.rooms.spec import room_call_spec
from pipelines.transports.daily import DAILY_SAMPLE_RATE, create_daily_transport


def build_daily_call(
    room_url: str, profile: Profile, settings: Settings, realtime: RealtimeEndpoint
) -> Call:
    token = settings.daily_token.get_secret_value() if settings.daily_token else None
    transport = create_daily_transport(room_url, token)
    spec = room_call_spec(
        transport_name="daily",
        call_id_prefix="daily",
        profile=profile,
        settings=settings,
        realtime=realtime,
        sample_rate=DAILY_SAMPLE_RATE,
    )
    call = Call(spec, transport, client_events=False)
    caller_id: list[str] = []

    @transport.event_handler("on_first_participant_joined")
    async def on_first(_transport, participant):
        caller_id.append(participant["id"])
        name = participant.get("info", {}).get("userName")
        await call.start_greeting(CallerInfo.from_untrusted(name=name))

    @transport.event_handler("on_participant_left")
    async def on_left(_transport, participant, reason):
        if caller_id and participant["id"] == caller_id[0]:
            await call.end("caller left the room", cancel=True)

    return call


async def run_daily_room(
    room_url: str, profile: Profile, settings: Settings, realtime: RealtimeEndpoint
) -> CallRecord:
    logger.info(f"daily: joining {room_url}")
    return await build_daily_call(room_url, profile, settings, realtime).run()
