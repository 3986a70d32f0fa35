"""Transport factory for the browser dev page: Pipecat's SmallWebRTC transport, audio only,
at the Realtime API's own PCM rate.

The browser sends Opus (48 kHz); Pipecat's input transport resamples once to 24 kHz and the
model gets PCM at that rate, as in rooms. The browser cancels its own echo, so the call runs
without the echo gate (CallSpec.line_echo False).
"""

import time

from pipecat.frames.frames import Frame, InputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor
from pipecat.transports.base_transport import TransportParams
from pipecat.transports.smallwebrtc.connection import SmallWebRTCConnection
from pipecat.transports.smallwebrtc.transport import SmallWebRTCTransport

WEBRTC_SAMPLE_RATE = 24000


def create_webrtc_transport(connection: SmallWebRTCConnection) -> SmallWebRTCTransport:
    params = TransportParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=WEBRTC_SAMPLE_RATE,
        audio_out_sample_rate=WEBRTC_SAMPLE_RATE,
    )
    return SmallWebRTCTransport(webrtc_connection=connection, params=params)


class BrowserMediaClock(FrameProcessor):
    """The line guard of a browser call: when its microphone audio last arrived (the idle
    timeout's clock). A browser never breaks the wire protocol, so `violation` stays None."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.violation: str | None = None
        self.last_media_at: float | None = None

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, InputAudioRawFrame):
            self.last_media_at = time.monotonic()
        await self.push_frame(frame, direction)
