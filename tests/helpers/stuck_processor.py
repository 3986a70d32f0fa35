"""A user-style processor with a bug that holds its call forever once the call ends: it
swallows its own cancellation (``tests.helpers.stuck_processor:HoldsTheCallOnEnd``). The
drain's hard deadline must end the process anyway."""

import asyncio

from pipecat.frames.frames import CancelFrame, EndFrame, Frame
from pipecat.processors.frame_processor import FrameDirection

from processors.base import ProfileProcessor


class HoldsTheCallOnEnd(ProfileProcessor):
    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        if isinstance(frame, (EndFrame, CancelFrame)):
            while True:
                try:
                    await asyncio.sleep(3600)
                except asyncio.CancelledError:
                    continue  # the bug
        await self.push_frame(frame, direction)
