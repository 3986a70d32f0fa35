"""CallActions acts when the bot's audio has played, and a pending transfer can be cancelled."""

import asyncio

from pipecat.frames.frames import BotStartedSpeakingFrame, BotStoppedSpeakingFrame
from pipecat.processors.frame_processor import FrameDirection
from pipecat.tests.utils import SleepFrame, run_test

from processors.tools.call_actions import CallActions


class RecordingControl:
    provider = "test"
    can_transfer = True

    def __init__(self) -> None:
        self.transfers: list[str] = []

    async def hang_up(self) -> None:
        return None

    async def transfer(self, target: str) -> None:
        self.transfers.append(target)


def actions_under_test(control, ended: list[str]) -> CallActions:
    async def end_call(reason: str) -> None:
        ended.append(reason)

    return CallActions(
        call_id="t", end_call=end_call, control=control, hangup_timeout_s=5, max_farewell_s=5
    )


ANNOUNCEMENT = [
    SleepFrame(0.3),
    BotStartedSpeakingFrame(),
    SleepFrame(0.5),
    BotStoppedSpeakingFrame(),
    SleepFrame(0.3),
]


async def until_set_up(processor: CallActions) -> None:
    """A processor schedules work only once its pipeline has set it up; a fixed sleep lost
    that race under load ("TaskManager is not initialized")."""
    while True:
        try:
            processor.task_manager  # noqa: B018 - raises until the pipeline has set it up
            return
        except Exception:
            await asyncio.sleep(0.01)


async def drive(actions: CallActions, during_announcement) -> None:
    async def script():
        await until_set_up(actions)
        await actions.transfer_after_speech("sales", "+15550100123")
        await asyncio.sleep(0.5)  # the bot is announcing the transfer now
        await during_announcement()

    task = asyncio.create_task(script())
    await run_test(
        actions, frames_to_send=ANNOUNCEMENT, frames_to_send_direction=FrameDirection.UPSTREAM
    )
    await task


async def test_transfer_happens_once_the_announcement_has_played():
    control, ended = RecordingControl(), []
    actions = actions_under_test(control, ended)
    seen_while_speaking: list[list[str]] = []

    async def look():
        seen_while_speaking.append(list(control.transfers))

    await drive(actions, look)
    assert seen_while_speaking == [[]], "no transfer while the bot is still speaking"
    assert control.transfers == ["+15550100123"]
    assert ended == ["transferred to sales"]


async def test_cancel_transfer_during_the_announcement_keeps_the_caller():
    control, ended = RecordingControl(), []
    actions = actions_under_test(control, ended)
    cancelled: list[bool] = []

    async def cancel():
        cancelled.append(await actions.cancel_transfer())

    await drive(actions, cancel)
    assert cancelled == [True]
    assert control.transfers == [] and ended == []
    assert await actions.cancel_transfer() is False, "nothing left to cancel"
