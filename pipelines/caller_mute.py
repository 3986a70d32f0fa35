"""Caller audio stops reaching the model once the call is wrapping up (the budget line).

A turn the caller ends after the bot decided to wrap up would get a reply of its own after
the line (server VAD creates one): it would cost past the cap the line is there to keep,
and the hang-up would cut it off mid-sentence. Muted, the model hears no more turns, and
nothing the caller says cuts the line short. Placed among the input filters, before the
echo gate and, on the fast lane, before the model's audio inlet: it sees the caller's
audio on either lane.
"""

from pipecat.frames.frames import Frame, InputAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

from pipelines.transports.inbound_audio_batch import AudioSink


class CallerMute(FrameProcessor):
    # Ahead of the fast lane's inlet, it needs no audio past the model: the lane stays fast.
    needs_audio = False

    def __init__(self) -> None:
        # Direct mode, as Pipecat's own quick filters: no queue and task of its own.
        super().__init__(name="caller-mute", enable_direct_mode=True)
        self.muted = False
        self._sink: AudioSink | None = None

    def mute(self) -> None:
        self.muted = True

    def send_audio_to(self, sink: AudioSink | None) -> None:
        """On the fast lane caller audio comes as bytes (pipelines/audio_lane.py): what is not
        muted goes to ``sink`` (``None``: frames again)."""
        self._sink = sink

    async def take_caller_audio(self, audio: bytes, sample_rate: int, num_channels: int) -> None:
        if self.muted:
            return
        assert self._sink is not None, "caller audio as bytes needs send_audio_to first"
        await self._sink(audio, sample_rate, num_channels)

    async def process_frame(self, frame: Frame, direction: FrameDirection) -> None:
        await super().process_frame(frame, direction)
        if (
            self.muted
            and isinstance(frame, InputAudioRawFrame)
            and direction == FrameDirection.DOWNSTREAM
        ):
            return
        await self.push_frame(frame, direction)
