"""Transport factory for Daily rooms: Pipecat's DailyTransport at the Realtime API's 24 kHz."""

from pipecat.transports.daily.transport import DailyParams, DailyTransport

DAILY_SAMPLE_RATE = 24000


def create_daily_transport(room_url: str, token: str | None) -> DailyTransport:
    params = DailyParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=DAILY_SAMPLE_RATE,
        audio_out_sample_rate=DAILY_SAMPLE_RATE,
    )
    return DailyTransport(room_url, token, "Voice bot", params)
