"""Daily rooms: construction only (no Daily server is reachable here)."""

from pipecat.transports.daily.transport import DailyTransport

from bot.call.call import RealtimeEndpoint
from bot.config.profiles import load_profile
from bot.config.settings import Settings
from bot.rooms.daily_bot import build_daily_call


def test_a_daily_call_is_built_at_24k_and_greets_on_the_first_participant(tmp_path):
    settings = Settings(_env_file=None, records_dir=tmp_path, daily_token="tok")
    call = build_daily_call(
        "https://example.daily.co/demo",
        load_profile("default"),
        settings,
        RealtimeEndpoint(url="ws://127.0.0.1:9", api_key="sk-test"),
    )
    transport = call._transport
    assert isinstance(transport, DailyTransport)
    assert call.spec.transport_name == "daily" and call.spec.audio_sample_rate == 24000
    assert transport._params.audio_out_sample_rate == 24000
    handlers = transport._event_handlers
    assert handlers["on_first_participant_joined"].handlers
    assert handlers["on_participant_left"].handlers
    assert not handlers["on_client_connected"].handlers
