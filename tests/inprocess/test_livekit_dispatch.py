"""Dispatch mode: signed LiveKit webhooks start one bot per room, up to the limit (the
dispatch server in process, the bot processes recorded instead of spawned)."""

import base64
import hashlib

import httpx
from google.protobuf.json_format import MessageToJson
from livekit import api

from bot.rooms.livekit_dispatch import WEBHOOK_PATH, DispatchServer
from bot.rooms.processes import RoomProcesses

KEY = "devkey"
SECRET = "a-livekit-secret-that-is-32-bytes-long"


class RecordingProcesses(RoomProcesses):
    """RoomProcesses whose start() records the room instead of spawning a bot."""

    def __init__(self, limit: int = 10):
        super().__init__(limit)
        self.started: list[str] = []

    async def start(self, room: str) -> bool:
        if self.has(room) or self.full:
            return False
        self.started.append(room)
        self._starting.add(room)
        return True


def signed(event: api.WebhookEvent, secret: str = SECRET) -> tuple[str, dict[str, str]]:
    body = MessageToJson(event)
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    token = api.AccessToken(KEY, secret).with_sha256(digest).to_jwt()
    return body, {"Authorization": token, "Content-Type": "application/webhook+json"}


def room_started(room: str) -> api.WebhookEvent:
    return api.WebhookEvent(event="room_started", room=api.Room(name=room))


def joined(room: str, identity: str, kind=api.ParticipantInfo.Kind.STANDARD) -> api.WebhookEvent:
    return api.WebhookEvent(
        event="participant_joined",
        room=api.Room(name=room),
        participant=api.ParticipantInfo(identity=identity, kind=kind),
    )


def client_for(processes: RoomProcesses) -> httpx.AsyncClient:
    server = DispatchServer(api.WebhookReceiver(api.TokenVerifier(KEY, SECRET)), processes)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app), base_url="http://t")


async def test_a_webhook_with_a_wrong_signature_is_refused():
    processes = RecordingProcesses()
    async with client_for(processes) as client:
        body, headers = signed(room_started("r1"), secret="someone-elses-secret-32-bytes-long!")
        assert (await client.post(WEBHOOK_PATH, content=body, headers=headers)).status_code == 401
        body, headers = signed(room_started("r1"))
        tampered = body.replace('"r1"', '"r2"')
        response = await client.post(WEBHOOK_PATH, content=tampered, headers=headers)
        assert response.status_code == 401
        assert (await client.post(WEBHOOK_PATH, content=body)).status_code == 401
    assert processes.started == []


async def test_a_signed_webhook_starts_exactly_one_bot_per_room():
    processes = RecordingProcesses()
    async with client_for(processes) as client:
        events = [
            room_started("r1"),
            joined("r1", "ada"),
            joined("r1", "bob"),
            joined("r2", "voicebot-1234", kind=api.ParticipantInfo.Kind.AGENT),
            room_started("r1"),
        ]
        answers = []
        for event in events:
            body, headers = signed(event)
            answers.append((await client.post(WEBHOOK_PATH, content=body, headers=headers)).json())
    assert processes.started == ["r1"]
    assert [a.get("action") for a in answers] == [
        "started",
        "already running",
        "already running",
        "ignored",
        "already running",
    ]


async def test_rooms_beyond_the_limit_are_not_served():
    processes = RecordingProcesses(limit=1)
    async with client_for(processes) as client:
        for room, status in (("r1", 200), ("r2", 503)):
            body, headers = signed(joined(room, "ada"))
            response = await client.post(WEBHOOK_PATH, content=body, headers=headers)
            assert response.status_code == status
    assert processes.started == ["r1"]
