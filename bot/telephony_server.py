"""The telephony HTTP server: provider webhook, media-stream WebSocket, health.

One process serves many calls; each call is its own asyncio task and its own pipeline,
so a broken line ends only its own call.
"""

import asyncio
import uuid
from dataclasses import dataclass

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, Response
from loguru import logger
from pipecat.runner.utils import parse_telephony_websocket
from starlette.websockets import WebSocketState

from bot.call import Call, CallSpec, RealtimeEndpoint
from bot.caller_info import CallerInfo
from bot.pricing import PriceTable
from bot.profiles import Profile
from bot.settings import Settings
from bot.webhook_answers import plivo_xml, stream_url, telnyx_texml, twilio_twiml
from pipelines.call_control import telephony_call_control
from pipelines.profile_processors import ProcessorKit
from pipelines.telephony_transport import create_telephony_transport
from processors.tools.toolkit import ToolKit

# A line that opens /ws and says nothing must not hold a slot for long.
HANDSHAKE_TIMEOUT_S = 10.0

# WebSocket close codes (RFC 6455): 1008 policy violation, 1013 try again later.
CLOSE_POLICY = 1008
CLOSE_TRY_LATER = 1013


@dataclass
class TelephonyConfig:
    provider: str
    profile: Profile
    settings: Settings
    realtime: RealtimeEndpoint
    prices: PriceTable | None = None
    toolkit: ToolKit | None = None
    processors: ProcessorKit | None = None


class TelephonyServer:
    def __init__(self, config: TelephonyConfig):
        self.config = config
        self.active_calls: dict[str, Call] = {}
        self.accepting = True
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="realtime voice bot", docs_url=None, redoc_url=None)
        app.add_api_route("/health", self._health, methods=["GET"])
        app.add_api_route("/", self._webhook, methods=["POST"])
        app.add_api_websocket_route("/ws", self._media_stream)
        return app

    async def _health(self) -> JSONResponse:
        body = {
            "status": "ok" if self.accepting else "draining",
            "provider": self.config.provider,
            "active_calls": len(self.active_calls),
            "realtime": "emulator" if self.config.realtime.emulated else "openai",
        }
        return JSONResponse(body, status_code=200 if self.accepting else 503)

    async def _webhook(self, request: Request) -> Response:
        provider = self.config.provider
        form = await request.form() if "form" in request.headers.get("content-type", "") else {}
        caller = CallerInfo.from_untrusted(
            number=form.get("From"), name=form.get("CallerName"), called_number=form.get("To")
        )
        public_url = self.config.settings.public_url
        if provider == "twilio":
            params = {
                "from_number": caller.number,
                "to_number": caller.called_number,
                "caller_name": caller.name,
            }
            xml = twilio_twiml(stream_url(request, public_url), params)
        elif provider == "telnyx":
            xml = telnyx_texml(stream_url(request, public_url))
        elif provider == "plivo":
            # Plivo's stream `start` carries no caller details, so they ride on the URL.
            query = {"from_number": caller.number, "to_number": caller.called_number}
            xml = plivo_xml(stream_url(request, public_url, {k: v for k, v in query.items() if v}))
        else:
            return JSONResponse(
                {
                    "error": "Exotel does not use an XML webhook",
                    "websocket_url": stream_url(request, public_url),
                    "note": "Set this URL in your Exotel Voicebot applet.",
                }
            )
        return Response(content=xml, media_type="application/xml")

    async def _media_stream(self, websocket: WebSocket) -> None:
        await websocket.accept()
        if not self.accepting:
            logger.warning("refusing a call: server is draining")
            await websocket.close(code=CLOSE_TRY_LATER, reason="server draining")
            return
        try:
            detected, call_data = await asyncio.wait_for(
                parse_telephony_websocket(websocket), HANDSHAKE_TIMEOUT_S
            )
        except TimeoutError:
            logger.warning(f"refusing a media stream: no handshake in {HANDSHAKE_TIMEOUT_S}s")
            await self._close(websocket, CLOSE_POLICY, "no handshake")
            return
        except Exception as e:  # whatever the line sent, it was not a handshake
            reason = f"bad handshake ({type(e).__name__}: {str(e)[:80]})"
            logger.warning(f"refusing a media stream: {reason}")
            await self._close(websocket, CLOSE_POLICY, reason)
            return
        if detected != self.config.provider:
            logger.warning(f"refusing a {detected} media stream on a {self.config.provider} line")
            await self._close(websocket, CLOSE_POLICY, f"expected {self.config.provider} stream")
            return
        await self._run_call(websocket, call_data)

    async def _run_call(self, websocket: WebSocket, call_data) -> None:
        config = self.config
        body = call_data.get("body") or {}
        query = websocket.query_params
        caller = CallerInfo.from_untrusted(
            number=call_data.from_number or body.get("from_number") or query.get("from_number"),
            name=body.get("caller_name"),
            called_number=call_data.to_number or body.get("to_number") or query.get("to_number"),
            custom={k: v for k, v in body.items() if isinstance(v, str)},
        )
        call_id = str(call_data.get("call_id") or uuid.uuid4().hex)
        transport, guard = create_telephony_transport(
            websocket, config.provider, call_data, config.settings
        )
        spec = CallSpec(
            call_id=call_id,
            transport_name=config.provider,
            caller=caller,
            profile=config.profile,
            company_name=config.settings.company_name,
            realtime=config.realtime,
            records_dir=config.settings.records_dir,
            prices=config.prices,
            toolkit=config.toolkit,
            resilience=config.settings.realtime_resilience(),
            processors=config.processors,
        )
        control = telephony_call_control(config.provider, call_data, config.settings, guard)
        call = Call(spec, transport, line_guard=guard, call_control=control)
        self.active_calls[call_id] = call
        try:
            await call.run()
        finally:
            self.active_calls.pop(call_id, None)
            await self._close(websocket, 1000, "call ended")

    @staticmethod
    async def _close(websocket: WebSocket, code: int, reason: str) -> None:
        if websocket.application_state == WebSocketState.DISCONNECTED:
            return
        try:
            await websocket.close(code=code, reason=reason[:120])
        except Exception:
            pass  # the peer is gone already; nothing left to tell it
