"""Against a real LiveKit server (LiveKit Cloud or `livekit-server --dev`): runs only when
LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are set, and is skipped otherwise.

The real runner.py joins a fresh room on the bundled Realtime emulator; this test joins as a
person with the real livekit.rtc SDK, hears the greeting, speaks, hears the answer, leaves.
"""

import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from bot.rooms.livekit_tokens import mint_participant_token
from sim.realtime.audio import read_wav, resample

URL = os.environ.get("LIVEKIT_URL")
KEY = os.environ.get("LIVEKIT_API_KEY")
SECRET = os.environ.get("LIVEKIT_API_SECRET")
RATE = 24000

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not (URL and KEY and SECRET),
        reason="needs a LiveKit server: set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET",
    ),
]


def start_bot(room: str, tmp_path: Path, secret: str | None = None) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.update({"RECORDS_DIR": str(tmp_path / "records"), "LIVEKIT_LEAVE_GRACE_S": "0.5"})
    if secret:
        env["LIVEKIT_API_SECRET"] = secret
    with open(tmp_path / f"bot-{room}.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "runner.py", "--transport", "livekit", "--room", room, "--offline"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


async def test_wrong_secret_is_one_line_and_a_nonzero_exit(tmp_path):
    proc = start_bot(f"t-{uuid.uuid4().hex[:8]}", tmp_path, secret="x" * 40)
    await asyncio.to_thread(proc.wait, 60)
    log = next(tmp_path.glob("bot-*.log")).read_text()
    assert proc.returncode == 2
    assert "config error: LIVEKIT_API_SECRET: rejected" in log


async def test_a_person_is_greeted_answered_and_left(tmp_path):
    from livekit import rtc

    room_name = f"t-{uuid.uuid4().hex[:8]}"
    proc = start_bot(room_name, tmp_path)
    heard: list[float] = []  # arrival times of non-silent bot frames
    room = rtc.Room()
    listeners: set[asyncio.Task] = set()

    async def listen(track: rtc.Track) -> None:
        async for event in rtc.AudioStream(track, sample_rate=RATE, num_channels=1):
            samples = np.frombuffer(event.frame.data, dtype=np.int16)
            if samples.size and np.abs(samples).max() > 500:
                heard.append(time.monotonic())

    @room.on("track_subscribed")
    def on_track(track, _publication, _participant):
        if track.kind == rtc.TrackKind.KIND_AUDIO:
            listeners.add(asyncio.create_task(listen(track)))

    try:
        token = mint_participant_token(KEY, SECRET, room_name, "ada", timedelta(minutes=5))
        await asyncio.sleep(3)  # let the bot join first
        await room.connect(URL, token)
        source = rtc.AudioSource(RATE, 1)
        track = rtc.LocalAudioTrack.create_audio_track("mic", source)
        await room.local_participant.publish_track(track, rtc.TrackPublishOptions())
        await wait_for(lambda: heard, 20, "the greeting")
        await asyncio.sleep(6)  # the greeting plays in real time
        before = len(heard)
        samples, rate = read_wav("sim/audio/caller_order_status.wav")
        speech = np.concatenate([resample(samples, rate, RATE), np.zeros(RATE * 2, np.int16)])
        for start in range(0, len(speech) - 240, 240):
            chunk = speech[start : start + 240].tobytes()
            await source.capture_frame(rtc.AudioFrame(chunk, RATE, 1, 240))
        await wait_for(lambda: len(heard) > before + 50, 20, "the answer")
    finally:
        await room.disconnect()
    try:
        await asyncio.to_thread(proc.wait, 20)
    except subprocess.TimeoutExpired:
        proc.kill()
    records = [
        json.loads(line) for p in (tmp_path / "records").glob("*.jsonl") for line in p.open()
    ]
    assert proc.returncode == 0
    [record] = records
    assert record["transport"] == "livekit"
    assert record["end_reason"] == "caller left the room"
    assert [t["role"] for t in record["transcript"]][:3] == ["bot", "caller", "bot"]


async def wait_for(predicate, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)
