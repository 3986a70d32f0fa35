"""The emulator enforces its session cap like the real API, and voices a response's
`Say exactly:` instructions (used for the bot's fallback line)."""

import pytest
from websockets.exceptions import ConnectionClosed

from sim.realtime import EmulatorConfig, RealtimeEmulator
from sim.realtime.client import RealtimeClient


async def test_session_cap_ends_the_session_with_session_expired():
    async with RealtimeEmulator(EmulatorConfig(session_cap_s=0.5)) as emu:
        client = await RealtimeClient.connect(emu.url)
        created = await client.wait_for("session.created")
        assert created["session"]["expires_at"] <= emu.sessions[0].connected_at + 0.5
        err = (await client.wait_for("error", within=3.0))["error"]
        assert err["code"] == "session_expired"
        with pytest.raises(ConnectionClosed):
            await client.wait_for("never", within=2.0)
        assert client.ws.close_code == 1001


async def test_response_instructions_with_the_marker_are_said_verbatim():
    async with RealtimeEmulator(EmulatorConfig(stream_speed=40)) as emu:
        client = await RealtimeClient.connect(emu.url)
        await client.wait_for("session.created")
        line = "Sorry, one moment please."
        await client.send("response.create", response={"instructions": f'Say exactly: "{line}"'})
        done = await client.wait_for("response.output_audio_transcript.done")
        assert done["transcript"] == line
        await client.close()
