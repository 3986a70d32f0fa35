"""The dev page in a real headless Chromium (Debian's `chromium`): the browser's fake
microphone plays a caller WAV, the page calls the real runner.py over WebRTC, and the test
reads what the page shows (window.devCall, the DOM) and what it measured (getStats()).

Set DEV_PAGE_SCREENSHOT=docs/dev-page.png to refresh the README's screenshot.
"""

import json
import os
from pathlib import Path

import httpx
import pytest

from sim.bot_process import run_bot
from sim.phone.audio import load_wav_8k, voiced_seconds
from tests.helpers.chromium import chromium_page, find_chromium, microphone_wav

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        find_chromium() is None,
        reason="chromium is not installed (apt-get install chromium; .ci/run does it)",
    ),
]

ORDER = "sim/audio/caller_order_status.wav"
BARGE_IN = "sim/audio/bargein_wait_sorry.wav"
GREETING_HEARD_S = voiced_seconds(load_wav_8k("sim/audio/bot_greeting.wav"))
REPLY_HEARD_S = voiced_seconds(load_wav_8k("sim/audio/bot_reply_1.wav"))
REPROMPT = "Are you still there?"


async def state(page) -> dict:
    return json.loads(await page.evaluate("JSON.stringify(window.devCall)"))


async def test_browser_call_is_greeted_answered_shown_and_recorded(tmp_path):
    # The caller waits out the greeting, asks about an order, then stays silent: the
    # shipped receptionist answers, then re-prompts after 10 s.
    wav = microphone_wav(tmp_path / "caller.wav", ORDER, lead_s=7.0, tail_s=40.0)
    args = ("--transport", "webrtc", "--offline")
    async with run_bot(tmp_path, *args) as bot, chromium_page(wav) as page:
        await page.send("Page.navigate", url=f"{bot.http_url}/?autocall=1")
        await page.wait_for("devCall.state === 'in-call'", 20, "the page connects")
        async with httpx.AsyncClient() as client:
            during = (await client.get(f"{bot.http_url}/metrics")).text
        await page.wait_for(
            "devCall.transcript.filter(l => l.role === 'bot').length >= 2",
            45,
            "the greeting and the reply to the caller",
        )
        await page.wait_for(
            f"devCall.transcript.some(l => l.text.includes({REPROMPT!r}))",
            30,
            "the silent caller is re-prompted",
        )
        shown = await state(page)
        banner_shown = await page.evaluate("!document.getElementById('emulator-banner').hidden")
        screenshot = Path(os.environ.get("DEV_PAGE_SCREENSHOT", tmp_path / "dev-page.png"))
        await page.screenshot(screenshot)
        await page.evaluate("document.getElementById('hangup').click()")
        [record] = await bot.wait_for_records(1)
        record_link = await page.evaluate("document.querySelector('#record-link a').href")
        served = await page.evaluate(
            f"fetch({shown['recordUrl']!r}).then(r => r.json()).then(r => r.transport)"
        )
        requests = list(page.requests)
        async with httpx.AsyncClient() as client:
            after = (await client.get(f"{bot.http_url}/metrics")).text

    assert shown["connection"] == "connected" and shown["ice"] in ("connected", "completed")
    # The greeting, the reply and the re-prompt were heard: inbound audio measured by the
    # page's getStats(), louder than silence for about as long as those clips last.
    assert shown["inbound"]["energy"] > 0
    assert shown["inbound"]["voicedSeconds"] > GREETING_HEARD_S + REPLY_HEARD_S
    roles = [line["role"] for line in shown["transcript"]]
    assert roles[:3] == ["bot", "caller", "bot"], shown["transcript"]
    assert "order" in shown["transcript"][1]["text"].lower()
    assert "shipped" in shown["transcript"][2]["text"]
    assert [t["turn"] for t in shown["turns"]][:2] == [0, 1]
    assert any(e["kind"] == "processor" and "re-prompt" in e["text"] for e in shown["events"])
    # Offline the page says loudly that the emulator answers.
    assert shown["realtime"] == "emulator" and banner_shown
    # The call ran as a line of the server and left a record naming the transport.
    assert record["call_id"] == shown["callId"]
    assert record["transport"] == "webrtc" and served == "webrtc"
    assert record["end_reason"] == "caller hung up"
    assert record_link.endswith(f"/api/calls/{record['call_id']}")
    # Counted like any call of the server.
    assert "voicebot_active_calls 1.0" in during
    assert "voicebot_calls_total 1.0" in after and "voicebot_active_calls 0.0" in after
    assert [t["role"] for t in record["transcript"]][:3] == ["bot", "caller", "bot"]
    # Nothing but the server: no CDN, no fonts, no STUN lookups through fetch.
    assert requests and all(url.startswith(f"{bot.http_url}/") for url in requests), requests


async def test_browser_caller_talking_over_the_greeting_stops_the_bot(tmp_path):
    wav = microphone_wav(tmp_path / "barge_in.wav", BARGE_IN, lead_s=2.0, tail_s=40.0)
    async with (
        run_bot(tmp_path, "--transport", "webrtc", "--offline") as bot,
        chromium_page(wav) as page,
    ):
        await page.send("Page.navigate", url=f"{bot.http_url}/?autocall=1")
        await page.wait_for(
            "devCall.events.some(e => e.kind === 'barge-in')", 30, "the page shows the barge-in"
        )
        # The bot answers the interruption once the caller has finished.
        await page.wait_for(
            "devCall.transcript.filter(l => l.role === 'bot').length >= 2", 30, "the next reply"
        )
        shown = await state(page)
        listed = await page.evaluate("document.getElementById('events').textContent")
        await page.evaluate("devCall.hangUp()")
        [record] = await bot.wait_for_records(1)

    assert "barge-in" in listed
    # The bot fell silent while the caller was still talking over it...
    speech = [(s["who"], s["speaking"]) for s in shown["speech"]]
    caller_starts = speech.index(("caller", True))
    bot_stops = speech.index(("bot", False), caller_starts)
    assert speech.index(("caller", False), caller_starts) > bot_stops, shown["speech"]
    # ...and, by the time it answered, less bot audio had been heard than the greeting lasts.
    reply_starts = speech.index(("bot", True), bot_stops)
    assert shown["speech"][reply_starts]["heard"] < GREETING_HEARD_S, shown["speech"]
    [greeting, *_] = [line["text"] for line in shown["transcript"] if line["role"] == "bot"]
    assert "How can I help you today?" not in greeting, "the greeting was cut off"
    assert record["transport"] == "webrtc"
    assert record["transcript"][0]["text"] == greeting
