"""A LiveKit server in a box, at the `livekit.rtc` boundary, for tests without a server.

`FakeLiveKit().rtc` is a stand-in for the `livekit.rtc` module: patch it in where Pipecat's
LiveKitTransport uses `rtc` and every `rtc.Room` it creates joins this in-memory server
instead. Everything the transport does not create (AudioFrame, TrackKind, options...) is
the real `livekit.rtc`. The test plays the people in the room:

    lk = FakeLiveKit()
    monkeypatch.setattr(pipecat.transports.livekit.transport, "rtc", lk.rtc)
    room = lk.room("support")
    ada = room.join("ada", name="Ada")          # participant_connected in every bot's Room
    room.publish_audio(ada)                     # track_subscribed (auto-subscribe)
    await room.say(ada, pcm_24k_bytes)          # audio frames into the bot's AudioStream
    room.bot_audio_s("voicebot-…")              # what a bot published on its track
    room.leave(ada)                             # participant_disconnected

A bot joins as the identity, kind and attributes its token carries, so two bots in one room
see each other exactly as they would on a real server.
"""

from __future__ import annotations

import asyncio
import itertools
import types
from dataclasses import dataclass, field
from typing import Any

from livekit import api, rtc

_KINDS = {
    "": rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD,
    "standard": rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD,
    "agent": rtc.ParticipantKind.PARTICIPANT_KIND_AGENT,
    "sip": rtc.ParticipantKind.PARTICIPANT_KIND_SIP,
}
_sids = itertools.count(1)
FRAME_MS = 10


@dataclass
class FakeParticipant:
    identity: str
    name: str = ""
    kind: int = rtc.ParticipantKind.PARTICIPANT_KIND_STANDARD
    attributes: dict[str, str] = field(default_factory=dict)
    metadata: str = ""
    sid: str = field(default_factory=lambda: f"PA_{next(_sids)}")
    track_publications: dict[str, Any] = field(default_factory=dict)


@dataclass
class FakePublication:
    sid: str
    kind: int
    source: int = rtc.TrackSource.SOURCE_MICROPHONE
    muted: bool = False

    def set_subscribed(self, subscribed: bool) -> None:
        pass


class FakeRemoteAudioTrack:
    kind = rtc.TrackKind.KIND_AUDIO

    def __init__(self):
        self.sid = f"TR_{next(_sids)}"
        self.streams: list[FakeAudioStream] = []


class FakeAudioStream:
    """What `rtc.AudioStream(track)` yields: the frames the test feeds to the track."""

    def __init__(self, track: FakeRemoteAudioTrack, *args, **kwargs):
        self._queue: asyncio.Queue[rtc.AudioFrameEvent | None] = asyncio.Queue()
        track.streams.append(self)
        self._track = track

    def put(self, frame: rtc.AudioFrame) -> None:
        self._queue.put_nowait(rtc.AudioFrameEvent(frame=frame))

    def __aiter__(self):
        return self

    async def __anext__(self) -> rtc.AudioFrameEvent:
        event = await self._queue.get()
        if event is None:
            raise StopAsyncIteration
        return event

    async def aclose(self) -> None:
        if self in self._track.streams:
            self._track.streams.remove(self)
        self._queue.put_nowait(None)


class FakeAudioSource:
    """The bot's microphone: keeps every frame it is given, with the time it came."""

    def __init__(self, sample_rate: int, num_channels: int, queue_size_ms: int = 1000, **_):
        self.sample_rate = sample_rate
        self.num_channels = num_channels
        self.frames: list[tuple[float, rtc.AudioFrame]] = []

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        self.frames.append((asyncio.get_running_loop().time(), frame))

    def clear_queue(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


class FakeLocalAudioTrack:
    def __init__(self, name: str, source: FakeAudioSource):
        self.name = name
        self.source = source
        self.sid = f"TR_{next(_sids)}"

    @classmethod
    def create_audio_track(cls, name: str, source: FakeAudioSource) -> FakeLocalAudioTrack:
        return cls(name, source)


class FakeLocalParticipant:
    def __init__(self, room: FakeRoom, participant: FakeParticipant):
        self._room = room
        self.identity = participant.identity
        self.participant = participant

    async def publish_track(self, track: FakeLocalAudioTrack, options: Any = None) -> None:
        self._room.state.sources[self.identity] = track.source

    async def publish_data(self, data: bytes, **kwargs) -> None:
        pass

    async def set_metadata(self, metadata: str) -> None:
        self.participant.metadata = metadata


class FakeRoom(rtc.EventEmitter):
    """One connection (one bot) to a room of the fake server. Events go through LiveKit's own
    EventEmitter, which (like the real Room) passes each handler only the arguments it takes."""

    def __init__(self, server: FakeLiveKit, loop: Any = None):
        super().__init__()
        self._server = server
        self.remote_participants: dict[str, FakeParticipant] = {}
        self.local_participant: FakeLocalParticipant | None = None
        self.state: RoomState | None = None

    async def connect(self, url: str, token: str, options: Any = None) -> None:
        if self._server.connect_error is not None:
            raise self._server.connect_error
        claims = api.TokenVerifier().verify(token, verify_signature=False)
        room_name = claims.video.room if claims.video else ""
        self._server.joins.append((room_name, claims.identity))
        participant = FakeParticipant(
            identity=claims.identity,
            name=claims.name,
            kind=_KINDS.get(claims.kind, _KINDS[""]),
            attributes=dict(claims.attributes or {}),
        )
        self.state = self._server.room(room_name)
        self.local_participant = FakeLocalParticipant(self, participant)
        self.remote_participants = dict(self.state.participants)
        self.state.connect(self, participant)

    async def disconnect(self) -> None:
        if self.state is not None and self.local_participant is not None:
            self.state.disconnect(self.local_participant.identity)


class RoomState:
    """A room on the fake server: its participants, bots, and what each bot published."""

    def __init__(self, name: str):
        self.name = name
        self.participants: dict[str, FakeParticipant] = {}
        self.bots: dict[str, FakeRoom] = {}
        self.sources: dict[str, FakeAudioSource] = {}
        self._tracks: dict[str, FakeRemoteAudioTrack] = {}

    def _others(self, identity: str) -> list[FakeRoom]:
        return [room for who, room in self.bots.items() if who != identity]

    def connect(self, room: FakeRoom, participant: FakeParticipant) -> None:
        self._add(participant)
        self.bots[participant.identity] = room

    def disconnect(self, identity: str) -> None:
        self.bots.pop(identity, None)
        self.leave(identity)

    def _add(self, participant: FakeParticipant) -> None:
        self.participants[participant.identity] = participant
        for room in self._others(participant.identity):
            room.remote_participants[participant.identity] = participant
            room.emit("participant_connected", participant)

    def join(
        self, identity: str, *, name: str = "", kind: str = "standard", attributes=None
    ) -> FakeParticipant:
        participant = FakeParticipant(
            identity=identity, name=name, kind=_KINDS[kind], attributes=dict(attributes or {})
        )
        self._add(participant)
        return participant

    def publish_audio(self, participant: FakeParticipant) -> None:
        track = FakeRemoteAudioTrack()
        publication = FakePublication(sid=f"PUB_{next(_sids)}", kind=rtc.TrackKind.KIND_AUDIO)
        participant.track_publications[publication.sid] = publication
        self._tracks[participant.identity] = track
        for room in self._others(participant.identity):
            room.emit("track_subscribed", track, publication, participant)

    async def say(
        self, participant: FakeParticipant, pcm: bytes, sample_rate: int, *, speed: float = 1.0
    ) -> None:
        """Send 16-bit mono PCM as 10 ms frames, paced at `speed` times real time."""
        track = self._tracks[participant.identity]
        step = sample_rate * FRAME_MS // 1000 * 2
        for start in range(0, len(pcm) - step + 1, step):
            frame = rtc.AudioFrame(pcm[start : start + step], sample_rate, 1, step // 2)
            for stream in list(track.streams):
                stream.put(frame)
            await asyncio.sleep(FRAME_MS / 1000 / speed)

    def leave(self, participant: FakeParticipant | str) -> None:
        identity = participant if isinstance(participant, str) else participant.identity
        gone = self.participants.pop(identity, None)
        self._tracks.pop(identity, None)
        if gone is None:
            return
        for room in self._others(identity):
            room.remote_participants.pop(identity, None)
            room.emit("participant_disconnected", gone)

    def evict(self, identity: str) -> None:
        """What the server API's remove_participant does: the bot's own Room is dropped."""
        room = self.bots.get(identity)
        self.disconnect(identity)
        if room is not None:
            room.emit("disconnected", "PARTICIPANT_REMOVED")

    def bot_audio_s(self, identity: str) -> float:
        source = self.sources.get(identity)
        if source is None:
            return 0.0
        return sum(frame.duration for _, frame in source.frames)


class FakeLiveKit:
    """The fake server; `.rtc` is the module to patch in place of `livekit.rtc`."""

    def __init__(self):
        self.rooms: dict[str, RoomState] = {}
        self.joins: list[tuple[str, str]] = []
        self.connect_error: Exception | None = None
        self.rtc = types.ModuleType("fake_livekit_rtc")
        self.rtc.__dict__.update({k: v for k, v in vars(rtc).items() if not k.startswith("__")})
        self.rtc.Room = lambda loop=None: FakeRoom(self, loop)
        self.rtc.AudioSource = FakeAudioSource
        self.rtc.AudioStream = FakeAudioStream
        self.rtc.LocalAudioTrack = FakeLocalAudioTrack

    def room(self, name: str) -> RoomState:
        return self.rooms.setdefault(name, RoomState(name))
