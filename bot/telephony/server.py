"""The telephony HTTP server: provider webhook, media-stream WebSocket, health.

One process serves many calls; each call is its own asyncio task and its own pipeline,
so a broken line ends only its own call.
"""

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from fastapi import FastAPI, Request, WebSocket
from fastapi.responses import JSONResponse, Response
from loguru import logger
from starlette.websockets import WebSocketState

from bot.call.call import Call, CallSpec, RealtimeEndpoint
from bot.call.pricing import PriceTable
from bot.call.processor_kit import ProcessorKit
from bot.call.record import CallRecord
from bot.call.tool_kit import ToolKit
from bot.config.caller_info import CallerInfo, sanitize_number
from bot.config.profiles import Profile
from bot.config.settings import Settings
from bot.security.edge import TOKEN_FIELD, EdgeSecurity
from bot.security.public_url import public_base
from bot.security.redaction import Redactor
from bot.telephony.daily_budget import DAILY_BUDGET_REFUSAL_LINE, DailySpend
from bot.telephony.graceful import EXIT_MARGIN_S
from bot.telephony.handshake import HandshakeRefused, read_handshake, stream_token_of
from bot.telephony.limits import CallLimits, CallSlots, enforce_call_limits
from bot.telephony.line_call import LineCall, ProfileBundle
from bot.telephony.live_calls import LiveCalls
from bot.telephony.memory_reclaim import MemoryReclaimConfig, MemoryReclaimer
from bot.telephony.metrics import BotMetrics
from bot.telephony.realtime_sessions import SESSIONS_SUBDIR, RealtimeSessionSlots
from bot.telephony.webhook_answers import call_answer, spoken_refusal, stream_url
from bot.webrtc.access import DevPageAccess
from pipelines.call_control.providers import telephony_call_control
from pipelines.transports.telephony import TELEPHONY_PROVIDERS, create_telephony_transport

# A line that opens /ws and says nothing must not hold a slot for long.
HANDSHAKE_TIMEOUT_S = 10.0

# What a caller hears when every Realtime session (MAX_REALTIME_SESSIONS) is in use.
SESSIONS_BUSY_LINE = "All our lines are busy right now. Please try again in a few minutes."

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
    # Profiles by the number dialled (DID_PROFILES), as FreePBX routes DIDs to contexts.
    did_profiles: dict[str, ProfileBundle] = field(default_factory=dict)

    def bundle_for(self, called_number: str) -> ProfileBundle:
        chosen = self.did_profiles.get(sanitize_number(called_number)) if called_number else None
        return chosen or ProfileBundle(self.profile, self.toolkit, self.processors)


class TelephonyServer:
    def __init__(self, config: TelephonyConfig):
        self.config = config
        self.active_calls = LiveCalls()
        self.accepting = True
        self.metrics = BotMetrics()
        self.security = EdgeSecurity(config.provider, config.settings)
        self.limits = CallLimits.from_settings(config.settings)
        self._slots = CallSlots(self.limits.max_concurrent_calls)
        self._redactor = Redactor(config.settings.secret_values())
        self.daily = DailySpend(
            config.settings.records_dir,
            config.settings.daily_budget_usd,
            live_cost_usd=self._live_cost_usd,
        )
        self.realtime_sessions = RealtimeSessionSlots(
            config.settings.records_dir / SESSIONS_SUBDIR, config.settings.max_realtime_sessions
        )
        if self.daily.limit_usd:
            status = self.daily.status()  # rebuilt from the day's records: restarts keep it
            logger.info(
                f"daily budget: ${status.spent_usd:.2f} of ${status.limit_usd:g} spent today "
                "(UTC, DAILY_BUDGET_USD)"
            )
        self.memory = MemoryReclaimer(
            MemoryReclaimConfig(interval_s=config.settings.memory_reclaim_interval_s)
        )
        if warning := self.security.dev_mode_warning():
            logger.warning(f"\n{'!' * 72}\n  {warning}\n{'!' * 72}")
        # Decided and mounted by bot.telephony.app.build_server (it knows the bind address).
        self.dev_page = DevPageAccess(False, "not mounted")
        self.app = self._build_app()

    def _build_app(self) -> FastAPI:
        app = FastAPI(title="realtime voice bot", docs_url=None, redoc_url=None)
        app.add_api_route("/health", self._health, methods=["GET"])
        app.add_api_route("/ready", self._ready, methods=["GET"])
        app.add_api_route("/metrics", self._metrics, methods=["GET"])
        if self.config.provider in TELEPHONY_PROVIDERS:
            app.add_api_route("/", self._webhook, methods=["POST"])
            app.add_api_websocket_route("/ws", self._media_stream)
        # Found by bot.telephony.graceful.DrainingServer in each worker process on SIGTERM.
        app.state.drain = self
        return app

    async def _health(self) -> JSONResponse:
        """Liveness: 200 while the process serves, draining included (its calls are live)."""
        body = {
            "status": "ok" if self.accepting else "draining",
            "provider": self.config.provider,
            "active_calls": len(self.active_calls),
            "realtime": "emulator" if self.config.realtime.emulated else "openai",
            "daily_budget": self.daily.status().model_dump(),
        }
        return JSONResponse(body)

    async def _ready(self) -> JSONResponse:
        """Readiness: 503 once draining or the day's budget is spent, so a load balancer
        sends new calls elsewhere."""
        budget_refusal = self.daily.refusal()
        ready = self.accepting and budget_refusal is None
        body = {"ready": ready, "active_calls": len(self.active_calls)}
        if budget_refusal:
            body["reason"] = budget_refusal
        return JSONResponse(body, status_code=200 if ready else 503)

    def _live_cost_usd(self) -> float:
        return sum(call.recorder.running_cost_usd() for call in self.active_calls.values())

    async def _metrics(self) -> Response:
        status = self.daily.status()
        if status.left_usd is not None:
            self.metrics.daily_budget_left.set(status.left_usd)
        content, media_type = self.metrics.exposition()
        return Response(content=content, media_type=media_type)

    async def drain(self) -> None:
        """Stop taking calls and let live ones finish, up to DRAIN_TIMEOUT_S; then end the
        rest (each still writes its record), giving up on any still live DRAIN_GRACE_S later."""
        self.accepting = False
        settings = self.config.settings
        timeout = settings.drain_timeout_s
        logger.warning(
            f"draining: readiness fails, new calls refused, waiting up to {timeout:g}s "
            f"for {len(self.active_calls)} live calls"
        )
        if not await self.active_calls.wait_until_none(timeout):
            logger.warning(f"drain deadline: ending {len(self.active_calls)} calls")
            await self.end_live_calls("server draining: deadline reached")
        if self.active_calls:
            logger.error(f"drain gave up on calls: {', '.join(self.active_calls)}; exiting")
        else:
            logger.info("drained: no live calls, exiting")

    async def end_live_calls(self, reason: str) -> list[str]:
        """End every live call; the ids of those still live DRAIN_GRACE_S later."""
        return await self.active_calls.end_all(reason, self.config.settings.drain_grace_s)

    def unfinished_call_ids(self) -> list[str]:
        return self.active_calls.unfinished()

    @property
    def hard_deadline_s(self) -> float:
        """From SIGTERM to the process's exit, whatever a call does (docs/scaling.md)."""
        settings = self.config.settings
        return settings.drain_timeout_s + settings.drain_grace_s + EXIT_MARGIN_S

    async def _webhook(self, request: Request) -> Response:
        provider = self.config.provider
        if refusal := await self.security.check_webhook(request):
            logger.warning(f"webhook refused (403): {refusal}")
            return Response(status_code=403, content="forbidden")
        form = await request.form() if "form" in request.headers.get("content-type", "") else {}
        caller = CallerInfo.from_untrusted(
            number=form.get("From"), name=form.get("CallerName"), called_number=form.get("To")
        )
        settings = self.config.settings
        base = public_base(
            request.url,
            request.headers,
            public_url=settings.public_url,
            trusted_proxy=settings.trusted_proxy,
            websocket=True,
        )
        if turned_away := self._turn_away_at_webhook():
            return turned_away
        call_id = form.get("CallSid") or form.get("CallUUID") or ""
        token = self.security.mint(call_id if isinstance(call_id, str) else "")
        token_param = {TOKEN_FIELD: token} if token else {}
        answer = call_answer(provider, base, caller, token_param)
        if answer is None:
            return JSONResponse(
                {
                    "error": "Exotel does not use an XML webhook",
                    "websocket_url": stream_url(base),
                    "note": "Set this URL in your Exotel Voicebot applet.",
                }
            )
        return Response(content=answer, media_type="application/xml")

    def _turn_away_at_webhook(self) -> Response | None:
        """A spoken refusal when the day's budget is spent or every Realtime session is in
        use: refused here the caller hears why; at the media stream they would not."""
        if reason := self.daily.refusal():
            metric, line = "budget", DAILY_BUDGET_REFUSAL_LINE
        elif not self.realtime_sessions.available():
            metric, line = "realtime_sessions", SESSIONS_BUSY_LINE
            reason = self._sessions_busy_reason()
        else:
            return None
        self.metrics.call_refused(metric)
        logger.warning(f"webhook: call turned away: {reason}")
        refusal_xml = spoken_refusal(self.config.provider, line)
        if refusal_xml is None:
            return JSONResponse({"error": reason}, status_code=503)
        return Response(content=refusal_xml, media_type="application/xml")

    def _sessions_busy_reason(self) -> str:
        return (
            f"busy: {self.realtime_sessions.capacity} Realtime sessions in use across "
            "workers (MAX_REALTIME_SESSIONS)"
        )

    @contextmanager
    def admit(self) -> Iterator[str | None]:
        """None while a new call may start (it holds a slot until the block ends), else why
        not; counted in the refusal metrics either way."""
        if not self.accepting:
            self.metrics.call_refused("draining")
            yield "server draining"
            return
        if budget_refusal := self.daily.refusal():
            self.metrics.call_refused("budget")
            yield budget_refusal
            return
        with self._slots.claim() as claimed, self.realtime_sessions.claim() as session:
            if not claimed:
                self.metrics.call_refused("busy")
                yield f"busy: {self._slots.capacity} calls in progress (MAX_CONCURRENT_CALLS)"
                return
            if not session:
                self.metrics.call_refused("realtime_sessions")
                yield self._sessions_busy_reason()
                return
            yield None

    async def _media_stream(self, websocket: WebSocket) -> None:
        await websocket.accept()
        if refusal := self.security.check_upgrade(websocket):
            await self._refuse(websocket, CLOSE_POLICY, refusal)
            return
        with self.admit() as refusal:
            if refusal is not None:
                await self._refuse(websocket, CLOSE_TRY_LATER, refusal)
                return
            try:
                call_data = await read_handshake(
                    websocket,
                    self.config.provider,
                    HANDSHAKE_TIMEOUT_S,
                    self.config.settings.max_message_bytes,
                )
            except HandshakeRefused as e:
                await self._refuse(websocket, CLOSE_POLICY, str(e))
                return
            token = stream_token_of(call_data, dict(websocket.query_params))
            if refusal := self.security.check_stream(call_data["call_id"], token):
                await self._refuse(websocket, CLOSE_POLICY, refusal)
                return
            await self._run_call(websocket, call_data)

    async def _refuse(self, websocket: WebSocket, code: int, reason: str) -> None:
        logger.warning(f"refusing a media stream ({code}): {reason}")
        await self.close_websocket(websocket, code, reason)

    async def _run_call(self, websocket: WebSocket, call_data) -> None:
        config = self.config
        body = call_data.get("body") or {}
        query = websocket.query_params
        caller = CallerInfo.from_untrusted(
            number=call_data.from_number or body.get("from_number") or query.get("from_number"),
            name=body.get("caller_name"),
            called_number=call_data.to_number or body.get("to_number") or query.get("to_number"),
            custom={k: v for k, v in body.items() if isinstance(v, str) and k != TOKEN_FIELD},
        )
        transport, guard = create_telephony_transport(
            websocket, config.provider, call_data, config.settings
        )
        control = telephony_call_control(config.provider, call_data, config.settings, guard)

        async def close() -> None:
            await self.close_websocket(websocket, 1000, "call ended")

        line = LineCall(
            call_id=str(call_data.get("call_id") or uuid.uuid4().hex),
            transport_name=config.provider,
            transport=transport,
            guard=guard,
            control=control,
            caller=caller,
            bundle=config.bundle_for(caller.called_number),
            close=close,
        )
        await self.run_line_call(line)

    async def run_line_call(self, line: LineCall) -> CallRecord | None:
        """Run an accepted call to its end under the server's limits, metrics and drain;
        returns its record (None if it failed before writing one)."""
        config, bundle = self.config, line.bundle
        spec = CallSpec(
            call_id=line.call_id,
            transport_name=line.transport_name,
            caller=line.caller,
            profile=bundle.profile,
            company_name=config.settings.company_name,
            realtime=config.realtime,
            records_dir=config.settings.records_dir,
            prices=config.prices,
            audio_sample_rate=line.sample_rate,
            g711=line.g711,
            line_echo=line.line_echo,
            toolkit=bundle.toolkit,
            resilience=config.settings.realtime_resilience(),
            processors=bundle.processors,
            redact=self._redactor.redact_data,
            on_turn_latency=self.metrics.turn,
            audio_lane=config.settings.audio_lane,
        )
        call = Call(
            spec,
            line.transport,
            slots=line.slots,
            line_guard=line.guard,
            call_control=line.control,
        )
        if line.on_call is not None:
            line.on_call(call)
        call_id = line.call_id
        self.active_calls.add(call_id, call)
        self.metrics.call_started()
        record = None

        async def end_call(reason: str) -> None:
            await call.end(reason, cancel=True)

        def quiet_since() -> float | None:
            return line.guard.last_media_at or call.started_at

        limits = self.limits.for_profile(bundle.profile.max_call_minutes)
        watchdog = asyncio.create_task(
            enforce_call_limits(end_call, quiet_since, limits),
            name=f"limits-{call_id}",
        )
        try:
            record = await call.run()
        finally:
            watchdog.cancel()
            self.active_calls.remove(call_id)
            openings = call.echo_gate.counters.openings if call.echo_gate else 0
            self.metrics.call_ended(record, openings)
            await line.close()
            self.memory.call_ended(live_calls=lambda: len(self.active_calls))
        return record

    @staticmethod
    async def close_websocket(websocket: WebSocket, code: int, reason: str) -> None:
        if websocket.application_state == WebSocketState.DISCONNECTED:
            return
        try:
            await websocket.close(code=code, reason=reason[:120])
        except Exception:
            pass  # the peer is gone already; nothing left to tell it
