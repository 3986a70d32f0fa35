"""The one place profile processors talk to the model from, wherever they sit.

With Pipecat 1.14's Realtime service, text reaches the model only as an
``LLMMessagesAppendFrame`` that passes *through* the service on its way down: the service
sends it as a conversation item and the assistant aggregator, further down, asks for the
response (held while the bot speaks, owed while the caller speaks). An append pushed
from after the service would never be sent, and one queued at the pipeline's head is
swallowed by the user aggregator. So this stage sits last before the service and pushes
on behalf of every processor, before or after it.
"""

from __future__ import annotations

from typing import Literal

from pipecat.frames.frames import Frame, LLMMessagesAppendFrame
from pipecat.processors.frame_processor import FrameDirection, FrameProcessor

# Same convention as bot/call/call.py's GREETING_MARKER and sim/realtime/responses.py: the real
# model reads an instruction, the emulator voices the quoted text verbatim.
SAY_EXACTLY = "Say exactly:"


def say_message(line: str) -> dict[str, str]:
    return {
        "role": "developer",
        "content": f'Say this to the caller now, word for word. {SAY_EXACTLY} "{line}"',
    }


class ModelInlet(FrameProcessor):
    needs_audio = False  # control frames only (the audio fast lane, pipelines/audio_lane.py)

    def __init__(self) -> None:
        super().__init__(name="model-inlet")

    async def process_frame(self, frame: Frame, direction: FrameDirection):
        await super().process_frame(frame, direction)
        await self.push_frame(frame, direction)

    async def say(self, line: str) -> None:
        """The bot speaks ``line`` through the Realtime service."""
        await self.push_frame(LLMMessagesAppendFrame(messages=[say_message(line)], run_llm=True))

    async def tell_model(
        self, text: str, role: Literal["user", "developer"] = "user", run_llm: bool = True
    ) -> None:
        """A message for the model: from the caller's side (``user``: keys pressed, ...)
        or about the call (``developer``); with ``run_llm`` the model answers it.

        The context keeps the role; Pipecat 1.14's Realtime service sends appended
        messages to the API as ``system`` items.
        """
        message = {"role": role, "content": text}
        await self.push_frame(LLMMessagesAppendFrame(messages=[message], run_llm=run_llm))
