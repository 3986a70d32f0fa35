"""Caller audio into the Realtime session: appended as it comes (the hot path, many times a
second per call), held while no session listens, and re-sent to the next session (what the
old one had not committed to a turn, then what arrived during the gap)."""

import base64
from collections.abc import Awaitable, Callable

from pipelines.realtime.audio_backlog import AudioBacklog
from pipelines.realtime.g711 import SessionAudio

AUDIO_REPLAY_CHUNK = 48000  # bytes per input_audio_buffer.append when re-sending held audio

# (the event, the same as JSON text or None): the service's send, held through a gap.
SendEvent = Callable[[dict, str | None], Awaitable[None]]


class CallerAudioSender:
    def __init__(
        self, audio: SessionAudio, buffer_s: float, *, send: SendEvent, live: Callable[[], bool]
    ) -> None:
        """``live()``: a session is listening (no gap)."""
        self._audio = audio
        self.backlog = AudioBacklog(buffer_s, audio.bytes_per_s)
        self._send = send
        self._live = live

    async def append(self, pcm: bytes, sample_rate: int) -> None:
        """Caller 16-bit mono PCM, sent to the live session or held for the next one."""
        audio = await self._audio.to_session(pcm, sample_rate)
        if not audio:
            return
        if not self._live():
            self.backlog.hold(audio)
            return
        self.backlog.sent(audio)
        payload = base64.b64encode(audio).decode("ascii")
        # Without a pydantic model and its uuid event_id, and written out directly (base64
        # needs no JSON escaping): both showed in the load profile.
        await self._send(
            {"type": "input_audio_buffer.append", "audio": payload},
            f'{{"type":"input_audio_buffer.append","audio":"{payload}"}}',
        )

    async def replay(self) -> float:
        """Send a new session the audio it must hear; how many seconds that was."""
        audio = self.backlog.take()
        for start in range(0, len(audio), AUDIO_REPLAY_CHUNK):
            chunk = base64.b64encode(audio[start : start + AUDIO_REPLAY_CHUNK]).decode()
            await self._send({"type": "input_audio_buffer.append", "audio": chunk}, None)
        self.backlog.sent(audio)
        return self.backlog.seconds(audio)
