"""DEV_PAGE against the real runner.py: every offer opens a paid Realtime session, so the page
and its offer endpoint are on by themselves only on a loopback bind (or offline)."""

import subprocess
import sys

import httpx
import pytest
from aiortc import RTCPeerConnection

from sim.bot_process import REPO, bot_env, run_bot

pytestmark = pytest.mark.e2e

SECRET = "edge-secret-for-the-test"


async def browser_like_offer() -> tuple[RTCPeerConnection, dict]:
    """An audio offer with a data channel, as the page makes it."""
    pc = RTCPeerConnection()
    pc.createDataChannel("chat")
    pc.addTransceiver("audio", direction="sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    return pc, {"sdp": pc.localDescription.sdp, "type": pc.localDescription.type}


async def test_public_bind_with_a_key_refuses_the_page_and_offers(tmp_path, emulator):
    args = ("--transport", "twilio", "--realtime-url", emulator.url, "--host", "0.0.0.0")
    pc, offer = await browser_like_offer()
    try:
        async with run_bot(tmp_path, *args) as bot, httpx.AsyncClient() as client:
            page = await client.get(f"{bot.http_url}/")
            answer = await client.post(f"{bot.http_url}/api/offer", json=offer)
            health = await client.get(f"{bot.http_url}/health")
    finally:
        await pc.close()

    assert page.status_code == 403 and answer.status_code == 403
    assert "DEV_PAGE" in answer.json()["error"] and "127.0.0.1" in answer.json()["error"]
    assert health.status_code == 200, "the phone line is unaffected"
    assert emulator.sessions == [], "no Realtime session was opened"
    assert "dev page off: the dev page is off on a public bind" in bot.log()


async def test_loopback_bind_serves_the_page_and_answers_offers(tmp_path, emulator):
    args = ("--transport", "twilio", "--realtime-url", emulator.url, "--host", "127.0.0.1")
    pc, offer = await browser_like_offer()
    try:
        async with run_bot(tmp_path, *args) as bot, httpx.AsyncClient() as client:
            page = await client.get(f"{bot.http_url}/")
            script = await client.get(f"{bot.http_url}/static/app.js")
            answer = await client.post(f"{bot.http_url}/api/offer", json=offer)
            body = answer.json()
            patch = await client.patch(
                f"{bot.http_url}/api/offer", json={"pc_id": body.get("pc_id"), "candidates": []}
            )
    finally:
        await pc.close()

    assert page.status_code == 200 and 'src="/static/app.js"' in page.text
    assert script.status_code == 200 and "window.devCall" in script.text
    assert answer.status_code == 200, answer.text
    assert body["type"] == "answer" and body["sdp"].startswith("v=0") and body["pc_id"]
    assert patch.status_code == 200


def run_runner(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "runner.py", "--port", "0", *args],
        cwd=REPO,
        env=bot_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_page_only_server_on_a_public_bind_stops_start_up_naming_dev_page(tmp_path):
    done = run_runner(tmp_path, "--transport", "webrtc", "--host", "0.0.0.0")
    assert done.returncode == 2
    line = done.stderr.strip().splitlines()[-1]
    assert line.startswith("config error: DEV_PAGE") and "127.0.0.1" in line, line


def test_dev_page_on_a_public_bind_needs_the_edge_secret(tmp_path):
    done = run_runner(tmp_path, "--transport", "twilio", "--host", "0.0.0.0", DEV_PAGE="on")
    assert done.returncode == 2
    assert "STREAM_TOKEN_SECRET" in done.stderr.strip().splitlines()[-1]


async def test_dev_page_on_a_public_bind_lets_in_only_requests_with_the_secret(tmp_path, emulator):
    env = bot_env(tmp_path, DEV_PAGE="on", STREAM_TOKEN_SECRET=SECRET)
    args = ("--transport", "webrtc", "--realtime-url", emulator.url, "--host", "0.0.0.0")
    async with run_bot(tmp_path, *args, env=env) as bot, httpx.AsyncClient() as client:
        without = await client.get(f"{bot.http_url}/")
        wrong = await client.get(f"{bot.http_url}/", headers={"Authorization": "Bearer nope"})
        bearer = await client.get(
            f"{bot.http_url}/api/dev-page", headers={"Authorization": f"Bearer {SECRET}"}
        )
        # Opening /?key=… once swaps the key for a cookie the page's own requests carry.
        opened = await client.get(f"{bot.http_url}/?key={SECRET}", follow_redirects=True)

    assert without.status_code == 403 and wrong.status_code == 403
    assert bearer.status_code == 200 and bearer.json()["profile"] == "default"
    assert opened.status_code == 200 and str(opened.url) == f"{bot.http_url}/"
    assert "window.devCall" not in opened.text and "/static/app.js" in opened.text
