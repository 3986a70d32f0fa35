"""A LiveKit room call at the `livekit.rtc` boundary: a fake server plays the room, the real
pipeline (Pipecat's LiveKitTransport, our composer, the Realtime service) talks to the
Realtime emulator. Audio in, audio out."""

import asyncio
from pathlib import Path

from bot.call.call import RealtimeEndpoint
from bot.config.profiles import load_profile
from bot.rooms.livekit_bot import EXIT_REFUSED, RoomOutcome, run_room_call
from bot.rooms.livekit_room import RoomPolicy
from bot.rooms.livekit_tokens import agent_credentials
from sim.livekit import RoomState
from tests.helpers.livekit_room import RATE, caller_pcm, running_bots, settings_for, wait_until


async def wait_quiet(room: RoomState, bot: str, quiet_s: float = 1.0) -> float:
    """Wait until the bot has published nothing new for `quiet_s`; returns its audio so far."""
    last = -1.0
    while (now := room.bot_audio_s(bot)) != last:
        last = now
        await asyncio.sleep(quiet_s)
    return last


def start_bot(
    emu, tmp_path: Path, room: str, stop: asyncio.Event | None = None, **policy
) -> tuple[str, asyncio.Task[RoomOutcome]]:
    settings = settings_for(tmp_path)
    credentials = agent_credentials(settings, room)
    task = asyncio.create_task(
        run_room_call(
            room=room,
            credentials=credentials,
            profile=load_profile("default"),
            settings=settings,
            realtime=RealtimeEndpoint(url=emu.url, api_key="sk-test", emulated=True),
            policy=RoomPolicy(**{"leave_grace_s": 0.3, **policy}),
            stop=stop,
        )
    )
    running_bots.append(task)
    return credentials.identity, task


async def test_bot_greets_the_arriving_caller_answers_and_leaves(livekit, make_emu, tmp_path):
    emu = await make_emu()
    bot, task = start_bot(emu, tmp_path, "support")
    room = livekit.room("support")
    await wait_until(lambda: bot in room.sources, what="the bot to join and publish")

    ada = room.join("ada", name="Ada")
    await asyncio.sleep(1.0)
    assert room.bot_audio_s(bot) == 0, "greeted before the caller's audio was subscribed"

    room.publish_audio(ada)
    await wait_until(lambda: room.bot_audio_s(bot) > 1.0, what="the greeting")
    greeting_s = await wait_quiet(room, bot)

    await room.say(ada, caller_pcm(), RATE, speed=3.0)
    await wait_until(lambda: room.bot_audio_s(bot) > greeting_s + 1.0, what="the answer")
    await wait_quiet(room, bot)

    room.leave(ada)
    outcome = await asyncio.wait_for(task, 15)
    record = outcome.record
    assert outcome.exit_code == 0
    assert record.transport == "livekit"
    assert record.caller_name == "Ada"
    assert record.end_reason == "caller left the room"
    said_by_bot = [t.text for t in record.transcript if t.role == "bot"]
    said_by_caller = [t.text for t in record.transcript if t.role == "caller"]
    assert said_by_bot[0].startswith("Hello Ada"), said_by_bot
    assert len(said_by_bot) == 2
    assert said_by_caller == ["Hi, I would like to check the status of my order."]
    assert bot not in room.bots, "the bot must leave the room"
    written = (tmp_path / "records").glob("calls-*.jsonl")
    assert any(record.call_id in path.read_text() for path in written)


async def test_other_agents_are_not_heard_and_a_phone_caller_is_greeted_by_number(
    livekit, make_emu, tmp_path
):
    emu = await make_emu()
    bot, task = start_bot(emu, tmp_path, "pstn")
    room = livekit.room("pstn")
    await wait_until(lambda: bot in room.sources, what="the bot to join")

    # A recorder agent arrives first and talks: never the caller, never heard.
    recorder = room.join("agent-recorder", kind="agent")
    room.publish_audio(recorder)
    await room.say(recorder, caller_pcm(), RATE, speed=6.0)
    assert room.bot_audio_s(bot) == 0

    phone = room.join(
        "sip_+15551230000",
        name="",
        kind="sip",
        attributes={
            "sip.phoneNumber": "+1 (555) 123-0000",
            "sip.trunkPhoneNumber": "+15559870000",
            "sip.callID": "SCL_abc",
        },
    )
    room.publish_audio(phone)
    await wait_until(lambda: room.bot_audio_s(bot) > 1.0, what="the greeting")
    await room.say(recorder, caller_pcm(), RATE, speed=3.0)
    await asyncio.sleep(1.0)
    # The phone caller is silent, so nothing at all may have reached the model.
    [session] = emu.sessions
    sent = [e["type"] for e in session.client_events]
    assert "input_audio_buffer.append" not in sent, "another agent's audio reached the model"

    room.leave(phone)
    record = (await asyncio.wait_for(task, 15)).record
    assert record.caller_number == "+15551230000"
    assert record.called_number == "+15559870000"
    assert [t.role for t in record.transcript] == ["bot"]


async def test_a_second_bot_for_the_same_room_is_refused(livekit, make_emu, tmp_path):
    emu = await make_emu()
    first, first_task = start_bot(emu, tmp_path, "shared")
    room = livekit.room("shared")
    await wait_until(lambda: first in room.sources, what="the first bot")

    second, second_task = start_bot(emu, tmp_path / "second", "shared")
    outcome = await asyncio.wait_for(second_task, 15)
    assert outcome.exit_code == EXIT_REFUSED
    assert outcome.refused_by == first
    assert outcome.record.end_reason == f"refused: agent {first} already in the room"
    assert second not in room.bots

    ada = room.join("ada", name="Ada")
    room.publish_audio(ada)
    await wait_until(lambda: room.bot_audio_s(first) > 1.0, what="the first bot's greeting")
    assert room.bot_audio_s(second) == 0
    room.leave(ada)
    assert (await asyncio.wait_for(first_task, 15)).exit_code == 0


async def test_a_caller_who_rejoins_within_the_grace_period_keeps_the_call(
    livekit, make_emu, tmp_path
):
    emu = await make_emu()
    bot, task = start_bot(emu, tmp_path, "flaky", leave_grace_s=2.0)
    room = livekit.room("flaky")
    await wait_until(lambda: bot in room.sources, what="the bot")
    ada = room.join("ada", name="Ada")
    room.publish_audio(ada)
    await wait_until(lambda: room.bot_audio_s(bot) > 1.0, what="the greeting")
    room.leave(ada)
    await asyncio.sleep(0.5)
    ada = room.join("ada", name="Ada")
    room.publish_audio(ada)
    await asyncio.sleep(2.0)
    assert not task.done(), "left although the caller came back"
    room.leave(ada)
    record = (await asyncio.wait_for(task, 15)).record
    assert record.end_reason == "caller left the room"


async def test_takeover_removes_the_bot_already_in_the_room(livekit, make_emu, tmp_path):
    emu = await make_emu()
    first, first_task = start_bot(emu, tmp_path, "handover")
    room = livekit.room("handover")
    await wait_until(lambda: first in room.sources, what="the first bot")

    async def evict(identity: str) -> None:
        room.evict(identity)

    settings = settings_for(tmp_path / "second")
    credentials = agent_credentials(settings, "handover")
    second_task = asyncio.create_task(
        run_room_call(
            room="handover",
            credentials=credentials,
            profile=load_profile("default"),
            settings=settings,
            realtime=RealtimeEndpoint(url=emu.url, api_key="sk-test", emulated=True),
            policy=RoomPolicy(leave_grace_s=0.3, takeover=True),
            evict=evict,
        )
    )
    running_bots.append(second_task)
    first_outcome = await asyncio.wait_for(first_task, 15)
    assert first_outcome.record.end_reason == "disconnected from the room"

    ada = room.join("ada", name="Ada")
    room.publish_audio(ada)
    await wait_until(lambda: room.bot_audio_s(credentials.identity) > 1.0, what="the greeting")
    assert room.bot_audio_s(first) == 0
    room.leave(ada)
    assert (await asyncio.wait_for(second_task, 15)).exit_code == 0


async def test_stopping_the_bot_mid_call_leaves_and_writes_the_record(livekit, make_emu, tmp_path):
    emu = await make_emu()
    stop = asyncio.Event()
    bot, task = start_bot(emu, tmp_path, "stopped", stop=stop)
    room = livekit.room("stopped")
    await wait_until(lambda: bot in room.sources, what="the bot")
    ada = room.join("ada", name="Ada")
    room.publish_audio(ada)
    await wait_until(lambda: room.bot_audio_s(bot) > 1.0, what="the greeting")
    stop.set()
    record = (await asyncio.wait_for(task, 15)).record
    assert record.end_reason == "bot stopped"
    assert bot not in room.bots
    assert list((tmp_path / "records").glob("calls-*.jsonl"))


async def test_a_visitor_without_a_microphone_is_not_greeted_and_the_bot_leaves_with_them(
    livekit, make_emu, tmp_path
):
    emu = await make_emu()
    bot, task = start_bot(emu, tmp_path, "silent")
    room = livekit.room("silent")
    await wait_until(lambda: bot in room.sources, what="the bot")
    visitor = room.join("viewer", name="Viewer")
    await asyncio.sleep(0.5)
    room.leave(visitor)
    record = (await asyncio.wait_for(task, 15)).record
    assert record.end_reason == "caller left the room"
    assert room.bot_audio_s(bot) == 0 and record.transcript == []
