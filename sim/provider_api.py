"""A local stand-in for the providers' call-control REST APIs (Twilio Calls resource,
Telnyx call actions). Point TWILIO_API_BASE_URL at it; every request is recorded."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class ApiRequest:
    method: str
    path: str
    form: dict[str, str] = field(default_factory=dict)
    json: dict | None = None
    basic_auth: tuple[str, str] | None = None
    authorization: str = ""


class FakeProviderApi:
    def __init__(self) -> None:
        self.requests: list[ApiRequest] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _twilio_call(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(self._record(request, form=form))
        call_sid = request.match_info["call_sid"]
        status = form.get("Status", "in-progress")
        return web.json_response({"sid": call_sid, "status": status})

    async def _telnyx_action(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else None
        self.requests.append(self._record(request, json=body))
        return web.json_response({"data": {"result": "ok"}})

    @staticmethod
    def _record(request: web.Request, **kwargs) -> ApiRequest:
        header = request.headers.get("Authorization", "")
        basic = None
        if header.startswith("Basic "):
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            basic = (user, password)
        return ApiRequest(
            request.method, request.path, basic_auth=basic, authorization=header, **kwargs
        )

    def twilio_updates(self, call_sid: str | None = None) -> list[ApiRequest]:
        return [
            r
            for r in self.requests
            if "/Calls/" in r.path and (call_sid is None or r.path.endswith(f"/{call_sid}.json"))
        ]

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        app = web.Application()
        app.router.add_post(
            "/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}.json", self._twilio_call
        )
        app.router.add_post("/v2/calls/{call_control_id}/actions/{action}", self._telnyx_action)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sock = site._server.sockets[0]  # type: ignore[union-attr]
        self.url = f"http://{host}:{sock.getsockname()[1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeProviderApi:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()
