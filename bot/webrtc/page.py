"""The dev page on the telephony server: `GET /` serves a static page where a person clicks
Call and talks to the bot over WebRTC; `POST /api/offer` and `PATCH /api/offer` (ICE
candidates) are Pipecat's SmallWebRTC request shapes, so Pipecat's own clients work too.

Plain HTML, JS and CSS from bot/webrtc/static/: no build step, nothing from a CDN.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import ExitStack
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from loguru import logger
from pipecat.transports.smallwebrtc.connection import SmallWebRTCConnection
from pipecat.transports.smallwebrtc.request_handler import (
    IceCandidate,
    SmallWebRTCPatchRequest,
    SmallWebRTCRequest,
    SmallWebRTCRequestHandler,
)

from bot.telephony.server import TelephonyServer
from bot.webrtc.access import KEY_COOKIE, KEY_QUERY, DevPageAccess
from bot.webrtc.browser_call import run_browser_call

STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = {"app.js": "text/javascript", "style.css": "text/css"}
# A call id as the dev page makes them; anything else is not looked up.
CALL_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")


class DevPage:
    def __init__(self, server: TelephonyServer, access: DevPageAccess):
        self.server = server
        self.access = access
        # No ICE servers: the page talks to this host directly (loopback or LAN), and a STUN
        # server would be a request outside the server.
        self._handler = SmallWebRTCRequestHandler()
        self._calls: set[asyncio.Task] = set()
        self._live_pcs: set[str] = set()

    def mount(self, app: FastAPI) -> None:
        app.add_api_route("/", self._page, methods=["GET"])
        app.add_api_route("/static/{name}", self._static, methods=["GET"])
        app.add_api_route("/api/dev-page", self._status, methods=["GET"])
        app.add_api_route("/api/offer", self._offer, methods=["POST"])
        app.add_api_route("/api/offer", self._patch, methods=["PATCH"])
        app.add_api_route("/api/calls/{call_id}", self._record, methods=["GET"])

    def _refused(self, request: Request) -> Response | None:
        if reason := self.access.refusal(request):
            logger.warning(f"dev page: {request.method} {request.url.path} refused (403): {reason}")
            return JSONResponse({"error": reason}, status_code=403)
        return None

    async def _page(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        key = request.query_params.get(KEY_QUERY)
        if key and self.access.secret:
            # Swap the key in the address bar for a cookie the page's own requests carry.
            response = RedirectResponse("/", status_code=303)
            response.set_cookie(KEY_COOKIE, key, httponly=True, samesite="strict")
            return response
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    async def _static(self, name: str, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        if name not in STATIC_FILES:
            return JSONResponse({"error": "not found"}, status_code=404)
        return FileResponse(STATIC_DIR / name, media_type=STATIC_FILES[name])

    async def _status(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        config = self.server.config
        return JSONResponse(
            {
                "realtime": "emulator" if config.realtime.emulated else "openai",
                "profile": config.profile.name,
                "accepting": self.server.accepting,
            }
        )

    async def _offer(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        try:
            offer = SmallWebRTCRequest.from_dict(await request.json())
        except (json.JSONDecodeError, TypeError, AttributeError) as e:
            return JSONResponse({"error": f"bad offer: {e}"}, status_code=400)
        if offer.pc_id and offer.pc_id in self._live_pcs:
            # A renegotiation of a live call: no new call, no new slot.
            return JSONResponse(await self._handler.handle_web_request(offer, _no_new_call))
        admission = ExitStack()
        refusal = admission.enter_context(self.server.admit())
        if refusal is not None:
            admission.close()
            logger.warning(f"dev page: offer refused (503): {refusal}")
            return JSONResponse({"error": refusal}, status_code=503)
        started = False

        async def start_call(connection: SmallWebRTCConnection) -> None:
            nonlocal started
            started = True
            pc_id = connection.pc_id
            self._live_pcs.add(pc_id)
            task = asyncio.create_task(run_browser_call(self.server, connection, admission))
            self._calls.add(task)

            def forget(done: asyncio.Task) -> None:
                self._calls.discard(done)
                self._live_pcs.discard(pc_id)

            task.add_done_callback(forget)

        try:
            answer = await self._handler.handle_web_request(offer, start_call)
        except Exception as e:
            if not started:
                admission.close()
            return JSONResponse({"error": f"offer failed: {e}"}, status_code=400)
        return JSONResponse(answer)

    async def _patch(self, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        try:
            body = await request.json()
            patch = SmallWebRTCPatchRequest(
                pc_id=body["pc_id"],
                candidates=[IceCandidate(**c) for c in body.get("candidates", [])],
            )
            await self._handler.handle_patch_request(patch)
        except HTTPException as e:
            return JSONResponse({"error": e.detail}, status_code=e.status_code)
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
            return JSONResponse({"error": f"bad candidates: {e}"}, status_code=400)
        return JSONResponse({"status": "success"})

    async def _record(self, call_id: str, request: Request) -> Response:
        if refused := self._refused(request):
            return refused
        if not call_id.startswith("webrtc-") or not set(call_id) <= CALL_ID_CHARS:
            return JSONResponse({"error": "not a dev page call"}, status_code=404)
        record = find_record(self.server.config.settings.records_dir, call_id)
        if record is None:
            return JSONResponse({"error": "no record yet"}, status_code=404)
        return JSONResponse(record)


async def _no_new_call(_connection: SmallWebRTCConnection) -> None:
    return None


def find_record(records_dir: Path, call_id: str) -> dict | None:
    """The written record of a call (newest day first); the records are the truth, and any
    worker process can read them."""
    needle = f'"call_id": "{call_id}"'
    for path in sorted(records_dir.glob("calls-*.jsonl"), reverse=True)[:2]:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if needle in line:
                    return json.loads(line)
    return None
