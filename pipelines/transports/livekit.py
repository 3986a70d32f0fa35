"""Transport factory for LiveKit rooms: Pipecat's LiveKitTransport at the Realtime API's rate.

The pipeline runs at 24 kHz in and out, the Realtime API's own PCM rate, so nothing is
resampled between the room and the model (WebRTC's Opus decodes to 48 kHz; Pipecat's input
transport does that one hop).
"""

from livekit import rtc
from pipecat.transports.livekit.transport import LiveKitParams, LiveKitTransport

ROOM_SAMPLE_RATE = 24000


class RoomTransport(LiveKitTransport):
    """LiveKitTransport that also exposes its `rtc.Room`: events carry only identities,
    and telling a phone caller from an agent needs the participant's kind and attributes."""

    @property
    def room(self) -> rtc.Room:
        # Pipecat exposes the room only on its private client (`_client`); pinned in
        # pipelines/pipecat_internals.py.
        return self._client.room

    @property
    def joined(self) -> bool:
        return bool(self.participant_id)


def create_livekit_transport(url: str, token: str, room_name: str) -> RoomTransport:
    params = LiveKitParams(
        audio_in_enabled=True,
        audio_out_enabled=True,
        audio_in_sample_rate=ROOM_SAMPLE_RATE,
        audio_out_sample_rate=ROOM_SAMPLE_RATE,
        # One stream per participant (UserAudioRawFrame.user_id), so the bot can listen
        # to its caller only; see processors/participant_audio_filter.py.
        audio_in_user_tracks=True,
    )
    return RoomTransport(url=url, token=token, room_name=room_name, params=params)
