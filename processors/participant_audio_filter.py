"""Passes on the audio of one room participant only.

A room can hold several people and other bots; the Realtime model must hear the one the bot
is talking to. Until that participant is chosen, no room audio reaches the model at all.
"""

from pipecat.frames.frames import Frame, UserAudioRawFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor


class ParticipantAudioFilter(FrameProcessor):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.participant_id: str | None = None
        self.dropped_frames = 0

    def listen_to(self, participant_id: str | None) -> None:
        self.participant_id = participant_id

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, UserAudioRawFrame) and frame.user_id != self.participant_id:
            self.dropped_frames += 1
            return
        await self.push_frame(frame, direction)
