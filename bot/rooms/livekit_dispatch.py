"""Dispatch mode: LiveKit webhooks in, one bot process per room out.

`python runner.py --transport livekit --dispatch` serves `POST /livekit/webhook`. Every
request must carry LiveKit's signed Authorization token (checked with livekit-api's
WebhookReceiver: signature by our API secret, and the body's SHA-256); anything else is
refused with 401. `room_started` and a human's `participant_joined` start the room's bot
unless it already has one; at the limit the answer is 503 and the room is not served.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from livekit import api
from loguru import logger

from bot.rooms.participants import is_agent
from bot.rooms.processes import RoomProcesses

WEBHOOK_PATH = "/livekit/webhook"


class DispatchServer:
    def __init__(self, receiver: api.WebhookReceiver, processes: RoomProcesses):
        self._receiver = receiver
        self.processes = processes
        self.app = FastAPI(title="livekit dispatch", docs_url=None, redoc_url=None)
        self.app.add_api_route(WEBHOOK_PATH, self._webhook, methods=["POST"])
        self.app.add_api_route("/health", self._health, methods=["GET"])

    async def _health(self) -> JSONResponse:
        procs = self.processes
        return JSONResponse({"status": "ok", "rooms": procs.rooms, "limit": procs.limit})

    async def _webhook(self, request: Request) -> JSONResponse:
        body = (await request.body()).decode("utf-8", errors="replace")
        auth = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        try:
            event = self._receiver.receive(body, auth)
        except Exception as e:
            logger.warning(f"dispatch: refused a webhook: bad signature ({type(e).__name__})")
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        room = event.room.name
        wants_bot = event.event == "room_started" or (
            event.event == "participant_joined" and not is_agent(event.participant)
        )
        if not wants_bot or not room:
            return JSONResponse({"action": "ignored", "event": event.event})
        if self.processes.has(room):
            logger.debug(f"dispatch: room {room}: {event.event}, bot already running")
            return JSONResponse({"action": "already running", "room": room})
        if not await self.processes.start(room):
            logger.warning(
                f"dispatch: room {room}: not served, {self.processes.limit} rooms already running"
            )
            return JSONResponse({"error": "at capacity", "room": room}, status_code=503)
        return JSONResponse({"action": "started", "room": room})
