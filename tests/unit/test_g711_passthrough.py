"""G.711 passthrough, the Realtime service's side: caller audio goes to the session as the
line's μ-law bytes, the model's μ-law comes back as the line's PCM, and truncation points
are counted in μ-law time."""

import audioop
import base64

from pipelines.realtime.g711 import G711SessionMixin


class _Recorder:
    """The mixin's neighbours in the real service, reduced to what it touches."""

    def __init__(self):
        self.pushed = []

    async def _session_audio(self, frame):
        return b"pcm24k"

    async def push_frame(self, frame):
        self.pushed.append(frame)

    async def stop_ttfb_metrics(self):
        pass


async def test_g711_round_trip_matches_the_line_codec():
    class Service(G711SessionMixin, _Recorder):
        resilience = type("R", (), {"reconnect": type("C", (), {"audio_buffer_s": 1.0})})()

    service = Service(g711="pcmu")
    service._current_audio_response = None
    pcm = audioop.ulaw2lin(bytes(range(256)), 2)
    frame = type("F", (), {"audio": pcm, "sample_rate": 8000})()
    assert await service._session_audio(frame) == audioop.lin2ulaw(pcm, 2)
    delta = type(
        "E",
        (),
        {
            "item_id": "i",
            "content_index": 0,
            "response_id": "r",
            "delta": base64.b64encode(bytes(range(256))).decode(),
        },
    )()
    await service._handle_evt_audio_delta(delta)
    _, audio_frame = service.pushed
    assert audio_frame.sample_rate == 8000 and audio_frame.audio == pcm
    # Truncation points are in the model's audio: 256 μ-law bytes are 32 ms.
    assert service._calculate_audio_duration_ms(256) == 32
