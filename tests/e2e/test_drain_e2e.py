"""SIGTERM drain end to end, where it can go wrong: a browser call when a second signal
comes, a Realtime reconnect under way when the caller hangs up, a call that will not end.
The real runner.py, the Realtime emulator, phone and WebRTC callers over real sockets."""

import asyncio
import signal

import httpx
import pytest
import yaml
from aiortc import RTCPeerConnection, RTCSessionDescription

from sim.bot_process import BotProcess, bot_env, run_bot
from sim.phone import PhoneCaller, Say, Silence
from sim.realtime.faults import Faults

pytestmark = pytest.mark.e2e

ORDER = "sim/audio/caller_order_status.wav"
# Generous for a loaded machine, far below "never": the process must be gone by then.
EXIT_WAIT_S = 30.0


async def wait_for_active(client: httpx.AsyncClient, bot: BotProcess, count: int) -> None:
    for _ in range(400):
        if (await client.get(f"{bot.http_url}/health")).json()["active_calls"] >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {count} active calls:\n{bot.log()[-3000:]}")


async def wait_for_log(bot: BotProcess, text: str, timeout_s: float = 20.0) -> None:
    for _ in range(int(timeout_s / 0.05)):
        if text in bot.log():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} never logged:\n{bot.log()[-3000:]}")


async def exit_code(bot: BotProcess, within_s: float = EXIT_WAIT_S) -> int | None:
    for _ in range(int(within_s / 0.1)):
        if bot.proc.poll() is not None:
            return bot.proc.returncode
        await asyncio.sleep(0.1)
    return None


async def browser_call(client: httpx.AsyncClient, bot: BotProcess) -> RTCPeerConnection:
    """A WebRTC call to the dev page's offer endpoint, as the page places it."""
    pc = RTCPeerConnection()
    pc.createDataChannel("chat")
    pc.addTransceiver("audio", direction="sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    offer = {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}
    answer = await client.post(f"{bot.http_url}/api/offer", json=offer)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body["sdp"], type=body["type"]))
    return pc


async def test_second_sigterm_ends_a_browser_call_before_the_offline_emulator_stops(tmp_path):
    # The dev page's setup: the offline emulator in the process. A second SIGTERM during the
    # drain used to stop the emulator under the live call (a reconnect began) and leave the
    # call to the event loop's teardown, which never finished: the process did not exit.
    env = bot_env(tmp_path, LOG_LEVEL="INFO", DRAIN_TIMEOUT_S="60", DRAIN_GRACE_S="5")
    args = ("--transport", "webrtc", "--offline")
    async with run_bot(tmp_path, *args, env=env) as bot, httpx.AsyncClient() as client:
        pc = await browser_call(client, bot)
        try:
            await wait_for_active(client, bot, 1)
            bot.proc.send_signal(signal.SIGTERM)
            await wait_for_log(bot, "draining: readiness fails")
            bot.proc.send_signal(signal.SIGTERM)
            code = await exit_code(bot)
        finally:
            await pc.close()
        log = bot.log()
        records = bot.records()
    assert code == 0, log[-3000:]
    assert [r["end_reason"] for r in records] == ["server shutting down"]
    # The call ended while its Realtime session was still there to end cleanly.
    assert "reconnecting" not in log


async def test_sigterm_during_a_reconnect_then_the_caller_hangs_up_exits_zero(tmp_path, make_emu):
    # The first session drops 2 s in; every later one never answers session.update, so the
    # reconnect is still trying when the caller hangs up during the drain.
    emulator = await make_emu(
        faults_for_connection={0: Faults(drop_after_s=2.0)},
        faults=Faults(no_session_updated=True),
    )
    drain_timeout_s = 20.0
    env = bot_env(tmp_path, LOG_LEVEL="INFO", DRAIN_TIMEOUT_S=str(drain_timeout_s))
    args = ("--transport", "twilio", "--realtime-url", emulator.url)
    async with run_bot(tmp_path, *args, env=env) as bot, httpx.AsyncClient() as client:
        caller = PhoneCaller(url=bot.ws_url, provider="twilio", steps=[Say(ORDER), Silence(4)])
        call = asyncio.create_task(caller.run())
        await wait_for_active(client, bot, 1)
        await wait_for_log(bot, "reconnecting")
        bot.proc.send_signal(signal.SIGTERM)
        result = await call
        code = await exit_code(bot, drain_timeout_s)
        sessions_at_exit = len(emulator.sessions)
        await asyncio.sleep(1.0)
        log = bot.log()
        records = bot.records()
    assert result.closed_by == "caller", result.errors
    assert code == 0, log[-3000:]
    assert [r["end_reason"] for r in records] == ["caller hung up"]
    assert "drained: no live calls" in log
    # The reconnect ended with its call: no session opened for a call that is over.
    assert len(emulator.sessions) == sessions_at_exit
    assert "dangling tasks" not in log


async def test_a_call_that_will_not_end_cannot_hold_the_process_past_the_hard_deadline(
    tmp_path, emulator
):
    profile = tmp_path / "stuck.yaml"
    profile.write_text(
        yaml.safe_dump(
            {
                "name": "stuck",
                "instructions": "You are a receptionist for {company_name}.",
                "greeting": "Hello, thanks for calling {company_name}.",
                "processors": [{"name": "tests.helpers.stuck_processor:HoldsTheCallOnEnd"}],
            }
        )
    )
    env = bot_env(tmp_path, LOG_LEVEL="INFO", DRAIN_TIMEOUT_S="1", DRAIN_GRACE_S="1")
    args = ("--transport", "twilio", "--realtime-url", emulator.url, "--profile", str(profile))
    async with run_bot(tmp_path, *args, env=env) as bot, httpx.AsyncClient() as client:
        caller = PhoneCaller(url=bot.ws_url, provider="twilio", steps=[Silence(60)])
        call = asyncio.create_task(caller.run())
        await wait_for_active(client, bot, 1)
        call_id = caller_call_id(bot)
        bot.proc.send_signal(signal.SIGTERM)
        # DRAIN_TIMEOUT_S + DRAIN_GRACE_S + the 5 s exit margin, with room for a slow start.
        code = await exit_code(bot)
        call.cancel()
        log = bot.log()
    assert code == 1, log[-3000:]
    assert f"calls still live 1s after being ended (DRAIN_GRACE_S): {call_id}" in log
    assert f"exiting now. Calls that did not end: {call_id}" in log


def caller_call_id(bot: BotProcess) -> str:
    """The call id the server logged for the one call (a Twilio CallSid)."""
    for line in bot.log().splitlines():
        if ": start transport=" in line:
            return line.split("call ", 1)[1].split(":", 1)[0]
    raise AssertionError(f"no call started:\n{bot.log()[-3000:]}")
