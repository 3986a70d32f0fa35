"""A LiveKit room's transport, built without a server: it runs at the Realtime rate."""

from pipelines.transports.livekit import create_livekit_transport
from tests.helpers.livekit_room import RATE


def test_the_room_pipeline_runs_at_the_realtime_rate():
    transport = create_livekit_transport("ws://h", "t", "r")
    params = transport._params
    assert (params.audio_in_sample_rate, params.audio_out_sample_rate) == (RATE, RATE)
