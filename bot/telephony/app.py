"""Building and serving the telephony server, in one process or as N uvicorn workers.

With `--workers N` (WORKERS) the parent binds the port and uvicorn's process manager starts
N workers on it; the kernel spreads new connections, and a call's WebSocket stays on the
worker that accepted it. What must be shared across workers is shared explicitly:
- the Realtime endpoint (offline, one emulator started by the parent; its URL is passed on),
- stream tokens (STREAM_TOKEN_SECRET, required when provider signatures are enforced),
- metrics (PROMETHEUS_MULTIPROC_DIR; a temporary directory unless set).
"""

import asyncio
import json
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel

from bot.call.call import RealtimeEndpoint
from bot.call.fallback_prompt import check_fallback_audio
from bot.call.pricing import load_price_table
from bot.call.processor_kit import ProcessorKit
from bot.call.tool_kit import ToolKit
from bot.config.errors import ConfigError
from bot.config.profiles import load_profile
from bot.config.settings import Settings, load_settings
from bot.realtime.endpoint import EMULATOR_API_KEY, realtime_endpoint
from bot.security.edge import EdgeSecurity
from bot.security.redaction import Redactor, install_redacting_logging
from bot.telephony.graceful import DrainingMultiprocess
from bot.telephony.line_call import ProfileBundle
from bot.telephony.metrics import MULTIPROC_ENV
from bot.telephony.server import TelephonyConfig, TelephonyServer
from bot.webrtc.access import DevPageAccess
from bot.webrtc.browser_call import WEBRTC_TRANSPORT
from bot.webrtc.page import DevPage

# The parent hands each worker what it decided (transport, profile, endpoint) through here.
WORKER_SPEC_ENV = "VOICEBOT_WORKER_SPEC"
WORKER_APP = "bot.telephony.app:create_worker_app"


class WorkerSpec(BaseModel):
    transport: str
    profile: str
    realtime_url: str
    emulated: bool = False
    host: str = "0.0.0.0"


def load_bundle(profile_name: str, settings: Settings) -> ProfileBundle:
    """A profile with its tools and processors; any problem is a ConfigError at start-up."""
    profile = load_profile(profile_name)
    check_fallback_audio(profile)
    return ProfileBundle(
        profile, ToolKit.from_profile(profile, settings), ProcessorKit.from_profile(profile)
    )


def decide_dev_page(
    transport: str, settings: Settings, host: str, *, emulated: bool
) -> DevPageAccess:
    """Whether this server serves the dev page; a page-only server without it is a
    ConfigError naming DEV_PAGE."""
    access = DevPageAccess.decide(settings, host, emulated=emulated)
    if transport == WEBRTC_TRANSPORT and not access.enabled:
        reason = f"--transport webrtc serves only the dev page, and {access.reason}"
        raise ConfigError("DEV_PAGE", reason)
    return access


def build_server(
    transport: str,
    profile_name: str,
    settings: Settings,
    realtime: RealtimeEndpoint,
    host: str = "0.0.0.0",
) -> TelephonyServer:
    """`host` is the bind address: it decides whether the dev page is on (DEV_PAGE)."""
    access = decide_dev_page(transport, settings, host, emulated=realtime.emulated)
    default = load_bundle(profile_name, settings)
    server = TelephonyServer(
        TelephonyConfig(
            provider=transport,
            profile=default.profile,
            settings=settings,
            realtime=realtime,
            prices=load_price_table(settings.prices_file),
            toolkit=default.toolkit,
            processors=default.processors,
            did_profiles={
                number: load_bundle(name, settings)
                for number, name in settings.did_profile_map().items()
            },
        )
    )
    server.dev_page = access
    DevPage(server, access).mount(server.app)
    server.memory.freeze_startup_objects()
    return server


def uvicorn_config(app: FastAPI | str, host: str, port: int, settings: Settings, **extra):
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="off",
        # uvicorn's own handlers would bypass the redacting sink.
        log_config=None,
        # The guard names oversize messages up to 4x the limit; beyond that the WebSocket
        # layer refuses to buffer them at all (close 1009).
        ws_max_size=4 * settings.max_message_bytes,
        # Providers' media streams do not compress; a client that offers permessage-deflate
        # would make the server inflate/deflate every 20 ms frame (a top cost when profiled).
        ws_per_message_deflate=False,
        # Calls are ended before this wait (bot.telephony.graceful); it must not be endless.
        timeout_graceful_shutdown=max(1, round(settings.drain_grace_s)),
        **extra,
    )


def create_worker_app() -> FastAPI:
    """uvicorn's factory in each worker process."""
    spec = WorkerSpec.model_validate_json(os.environ[WORKER_SPEC_ENV])
    settings = load_settings(openai_realtime_url=spec.realtime_url)
    install_redacting_logging(settings.log_level, Redactor(settings.secret_values()))
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    realtime = RealtimeEndpoint(
        url=spec.realtime_url,
        api_key=EMULATOR_API_KEY if spec.emulated else key,
        emulated=spec.emulated,
    )
    return build_server(spec.transport, spec.profile, settings, realtime, spec.host).app


def check_workers_share_tokens(provider: str, settings: Settings) -> None:
    security = EdgeSecurity(provider, settings)
    if security.tokens_required and settings.stream_token_secret is None:
        raise ConfigError(
            "STREAM_TOKEN_SECRET",
            "must be set with WORKERS > 1: a stream token minted by one worker is checked "
            "by another",
        )


def prepare_metrics_dir() -> Path:
    """Multiprocess metrics need one directory, empty at start (prometheus-client's rule)."""
    configured = os.environ.get(MULTIPROC_ENV)
    path = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="voicebot-metrics-"))
    if configured and path.exists():
        for item in path.glob("*.db"):
            item.unlink()
    path.mkdir(parents=True, exist_ok=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path


def serve_workers(spec: WorkerSpec, host: str, port: int, workers: int, settings: Settings) -> None:
    """Blocks until every worker has drained and exited (SIGTERM to this process)."""
    check_workers_share_tokens(spec.transport, settings)
    created = not os.environ.get(MULTIPROC_ENV)
    metrics_dir = prepare_metrics_dir()
    os.environ[WORKER_SPEC_ENV] = json.dumps(spec.model_dump())
    config = uvicorn_config(WORKER_APP, host, port, settings, factory=True, workers=workers)
    try:
        DrainingMultiprocess(config, sockets=[config.bind_socket()]).run()
    finally:
        if created:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@contextmanager
def realtime_endpoint_in_thread(
    settings: Settings, *, offline: bool, url: str | None
) -> Iterator[RealtimeEndpoint]:
    """`realtime_endpoint` for a blocking caller: an offline emulator gets its own loop in a
    thread, because uvicorn's process manager must own the main thread (signals)."""
    ready: list[RealtimeEndpoint] = []
    started, stop = threading.Event(), threading.Event()
    failure: list[BaseException] = []

    async def hold() -> None:
        async with realtime_endpoint(settings, offline=offline, url=url) as endpoint:
            ready.append(endpoint)
            started.set()
            await asyncio.to_thread(stop.wait)

    def run() -> None:
        try:
            asyncio.run(hold())
        except BaseException as e:
            failure.append(e)
            started.set()

    thread = threading.Thread(target=run, name="realtime-endpoint", daemon=True)
    thread.start()
    started.wait()
    if failure:
        raise failure[0]
    try:
        yield ready[0]
    finally:
        stop.set()
        thread.join(timeout=5)
