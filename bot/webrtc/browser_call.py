"""One browser call: a SmallWebRTC connection run as a line of the telephony server, so the
concurrent-call limit, call limits, drain, metrics and the call record are the phone's."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from contextlib import ExitStack

from loguru import logger
from pipecat.transports.smallwebrtc.connection import SmallWebRTCConnection

from bot.call.record import CallRecord
from bot.config.caller_info import CallerInfo
from bot.telephony.line_call import LineCall
from bot.telephony.server import TelephonyServer
from bot.webrtc.reporter import DevCallReporter
from pipelines.composer import PipelineSlots
from pipelines.transports.webrtc import (
    WEBRTC_SAMPLE_RATE,
    BrowserMediaClock,
    create_webrtc_transport,
)

WEBRTC_TRANSPORT = "webrtc"
CLOSE_TIMEOUT_S = 5.0


async def run_browser_call(
    server: TelephonyServer, connection: SmallWebRTCConnection, admission: ExitStack
) -> CallRecord | None:
    """Runs the call to its end; `admission` holds the server slot taken when the offer was
    accepted and is released here, whatever happens."""
    with admission:
        config = server.config
        realtime = "emulator" if config.realtime.emulated else "openai"
        reporter = DevCallReporter(connection.send_app_message, realtime=realtime)
        clock = BrowserMediaClock()

        async def close() -> None:
            reporter.stop()
            # Usually closed already by the transport; a peer that vanished must not hold
            # the slot.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.disconnect(), CLOSE_TIMEOUT_S)

        line = LineCall(
            call_id=f"webrtc-{uuid.uuid4().hex[:12]}",
            transport_name=WEBRTC_TRANSPORT,
            transport=create_webrtc_transport(connection),
            guard=clock,
            # Hanging up is ending the call: the transport closes the peer connection.
            control=None,
            caller=CallerInfo(),
            bundle=config.bundle_for(""),
            close=close,
            sample_rate=WEBRTC_SAMPLE_RATE,
            line_echo=False,
            slots=PipelineSlots(input_filters=[clock]),
            on_call=reporter.follow,
        )
        try:
            return await server.run_line_call(line)
        except Exception as e:
            logger.exception(f"browser call {line.call_id} failed: {e}")
            return None
