"""Tools in a LiveKit room: `hangup_call` removes the phone caller's SIP participant after the
farewell, `transfer_call` hands them on with a SIP transfer, a browser caller is never removed.
The room is the fake at the `livekit.rtc` boundary; livekit-api is a recording stand-in."""

import asyncio
from types import SimpleNamespace

from bot.call.call import RealtimeEndpoint
from bot.call.tool_kit import ToolKit
from bot.config.profiles import load_profile
from bot.rooms.livekit_bot import run_room_call
from bot.rooms.livekit_room import RoomPolicy
from bot.rooms.livekit_tokens import agent_credentials
from sim.realtime import ScriptedFunctionCall
from tests.helpers.livekit_room import RATE, caller_pcm, settings_for, wait_until
from tests.helpers.tools import write_profile

SIP_CALLER = "sip_+15551230000"
SIP_ATTRIBUTES = {"sip.phoneNumber": "+15551230000", "sip.trunkPhoneNumber": "+15559870000"}


class RecordingServerApi:
    """What the bot asks of livekit-api, recorded instead of sent."""

    def __init__(self):
        self.removed: list[tuple[str, str]] = []
        self.transfers: list[tuple[str, str, str]] = []
        self.room = SimpleNamespace(remove_participant=self._remove)
        self.sip = SimpleNamespace(transfer_sip_participant=self._transfer)

    def __call__(self):
        return self

    async def __aenter__(self):
        return self

    async def __aexit__(self, *_exc) -> bool:
        return False

    async def _remove(self, request) -> None:
        self.removed.append((request.room, request.identity))

    async def _transfer(self, request) -> None:
        self.transfers.append(
            (request.room_name, request.participant_identity, request.transfer_to)
        )


async def room_call_with_tool(
    livekit, make_emu, tmp_path, call: ScriptedFunctionCall, *, sip: bool, **tool_settings
):
    emu = await make_emu(function_calls=[call])
    settings = settings_for(tmp_path)
    profile = load_profile(write_profile(tmp_path, [call.name], **tool_settings))
    credentials = agent_credentials(settings, "desk")
    server = RecordingServerApi()
    task = asyncio.create_task(
        run_room_call(
            room="desk",
            credentials=credentials,
            profile=profile,
            settings=settings,
            realtime=RealtimeEndpoint(url=emu.url, api_key="sk-test", emulated=True),
            policy=RoomPolicy(leave_grace_s=0.3),
            toolkit=ToolKit.from_profile(profile, settings),
            server=server,
        )
    )
    room = livekit.room("desk")
    await wait_until(lambda: credentials.identity in room.sources, what="the bot to join")
    if sip:
        caller = room.join(SIP_CALLER, name="", kind="sip", attributes=SIP_ATTRIBUTES)
    else:
        caller = room.join("ada", name="Ada")
    room.publish_audio(caller)
    await wait_until(lambda: room.bot_audio_s(credentials.identity) > 1.0, what="the greeting")
    await room.say(caller, caller_pcm(), RATE, speed=3.0)
    outcome = await asyncio.wait_for(task, 30)
    return outcome.record, server


async def test_hangup_removes_the_phone_caller_after_the_farewell(livekit, make_emu, tmp_path):
    hangup = ScriptedFunctionCall(after_user_turn=1, name="hangup_call", arguments="{}")
    record, server = await room_call_with_tool(livekit, make_emu, tmp_path, hangup, sip=True)
    assert record.end_reason == "bot hung up"
    assert server.removed == [("desk", SIP_CALLER)]
    assert [t.name for t in record.tool_calls] == ["hangup_call"]


async def test_hangup_with_a_browser_caller_only_leaves(livekit, make_emu, tmp_path):
    hangup = ScriptedFunctionCall(after_user_turn=1, name="hangup_call", arguments="{}")
    record, server = await room_call_with_tool(livekit, make_emu, tmp_path, hangup, sip=False)
    assert record.end_reason == "bot hung up"
    assert server.removed == []


async def test_transfer_hands_the_phone_caller_on_with_a_sip_transfer(livekit, make_emu, tmp_path):
    transfer = ScriptedFunctionCall(
        after_user_turn=1, name="transfer_call", arguments='{"destination": "sales"}'
    )
    record, server = await room_call_with_tool(
        livekit,
        make_emu,
        tmp_path,
        transfer,
        sip=True,
        transfer_destinations={"sales": "+15550100123"},
    )
    assert record.end_reason == "transferred to sales"
    assert server.transfers == [("desk", SIP_CALLER, "tel:+15550100123")]
    assert server.removed == []
