"""Transport factory for phone lines: a Pipecat FastAPI WebSocket transport per call.

The handshake (`connected`/`start`) is parsed by Pipecat's `parse_telephony_websocket`;
this module only picks the provider's Pipecat serializer, wraps it in the strict
`GuardedSerializer`, and fixes the audio rates a phone line needs.
"""

from typing import Any

from fastapi import WebSocket
from pipecat.runner.types import CallData
from pipecat.serializers.base_serializer import FrameSerializer
from pipecat.serializers.exotel import ExotelFrameSerializer
from pipecat.serializers.plivo import PlivoFrameSerializer
from pipecat.serializers.telnyx import TelnyxFrameSerializer
from pipecat.serializers.twilio import TwilioFrameSerializer
from pipecat.transports.websocket.fastapi import FastAPIWebsocketParams

from bot.config.settings import Settings
from pipelines.transports.inbound_audio_batch import InboundAudioBatch
from pipelines.transports.line import LineTransport
from pipelines.transports.media_stream_guard import GuardedSerializer, LineEncoding
from pipelines.transports.paced_output import NoHooks, PacedLineTransport

TELEPHONY_PROVIDERS = ("twilio", "telnyx", "plivo", "exotel")

# Every provider here carries 8 kHz audio. Running the pipeline at the line's rate means
# the serializers never resample; the Realtime session takes G.711 at 8 kHz too, so nothing
# does (pipelines/realtime/g711.py).
LINE_SAMPLE_RATE = 8000


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def create_provider_serializer(
    provider: str, call_data: CallData, settings: Settings
) -> FrameSerializer:
    """The provider's own Pipecat serializer; provider hang-up only when credentials exist."""
    if provider == "twilio":
        token = _secret(settings.twilio_auth_token)
        can_hang_up = bool(settings.twilio_account_sid and token and call_data.call_id)
        return TwilioFrameSerializer(
            stream_sid=call_data["stream_id"],
            call_sid=call_data.get("call_id"),
            account_sid=settings.twilio_account_sid,
            auth_token=token,
            base_url=settings.twilio_api_base_url,
            params=TwilioFrameSerializer.InputParams(auto_hang_up=can_hang_up),
        )
    if provider == "telnyx":
        api_key = _secret(settings.telnyx_api_key)
        return TelnyxFrameSerializer(
            stream_id=call_data["stream_id"],
            call_control_id=call_data.get("call_id"),
            outbound_encoding=call_data.get("outbound_encoding") or "PCMU",
            inbound_encoding="PCMU",
            api_key=api_key,
            params=TelnyxFrameSerializer.InputParams(auto_hang_up=bool(api_key)),
        )
    if provider == "plivo":
        token = _secret(settings.plivo_auth_token)
        return PlivoFrameSerializer(
            stream_id=call_data["stream_id"],
            call_id=call_data.get("call_id"),
            auth_id=settings.plivo_auth_id,
            auth_token=token,
            params=PlivoFrameSerializer.InputParams(
                auto_hang_up=bool(settings.plivo_auth_id and token)
            ),
        )
    if provider == "exotel":
        return ExotelFrameSerializer(
            stream_sid=call_data["stream_id"], call_sid=call_data.get("call_id")
        )
    raise ValueError(f"unsupported telephony provider {provider!r}")


def inbound_encoding(provider: str, call_data: CallData) -> LineEncoding:
    """How the provider's caller audio is encoded, as its Pipecat serializer reads it."""
    if provider == "exotel":
        return "L16"  # 16-bit PCM at 8 kHz
    if provider == "telnyx":
        # Pipecat's Telnyx serializer decodes inbound media with the stream's encoding.
        return "PCMA" if call_data.get("outbound_encoding") == "PCMA" else "PCMU"
    return "PCMU"


# Providers that queue the media they are sent and drop the queue on a `clear`: bot audio may
# run ahead of playback there. Exotel is left to Pipecat's own real-time pacing.
BUFFERING_PROVIDERS = frozenset({"twilio", "telnyx", "plivo"})


def create_telephony_transport(
    websocket: WebSocket, provider: str, call_data: CallData, settings: Settings
) -> tuple[LineTransport, GuardedSerializer]:
    """Build the call's transport; the guard is returned so the call can read its verdict."""
    guard = GuardedSerializer(
        provider,
        create_provider_serializer(provider, call_data, settings),
        max_bytes=settings.max_message_bytes,
        batch=InboundAudioBatch(settings.audio_in_batch_ms),
        encoding=inbound_encoding(provider, call_data),
        sample_rate=LINE_SAMPLE_RATE,
    )
    params = FastAPIWebsocketParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=LINE_SAMPLE_RATE,
        audio_out_sample_rate=LINE_SAMPLE_RATE,
        add_wav_header=False,
        serializer=guard,
        # Phone providers do not send an Origin header; origin checks belong to browsers.
        allowed_origins=[],
        # Bigger chunks, fewer writes and frames; the line buffers what it has not played yet
        # and a barge-in clears it, so this adds no latency.
        audio_out_10ms_chunks=settings.audio_out_chunk_ms // 10,
    )
    if provider in BUFFERING_PROVIDERS and settings.audio_out_lead_ms > 0:
        lead_s = settings.audio_out_lead_ms / 1000
        return PacedLineTransport(websocket, params, lead_s=lead_s, hooks=NoHooks()), guard
    return LineTransport(websocket, params), guard
