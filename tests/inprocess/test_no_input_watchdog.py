"""The watchdog's clock: silence counts, bot speech and running tools do not, and caller
speech starts the re-prompt count again."""

from pipecat.audio.dtmf.types import KeypadEntry
from pipecat.frames.frames import (
    BotStartedSpeakingFrame,
    BotStoppedSpeakingFrame,
    FunctionCallFromLLM,
    FunctionCallResultFrame,
    FunctionCallsStartedFrame,
    InputDTMFFrame,
    UserStartedSpeakingFrame,
    UserStoppedSpeakingFrame,
)
from pipecat.tests.utils import SleepFrame, run_test

from processors.base import ProcessorContext
from processors.no_input_watchdog import NoInputWatchdog, WatchdogOptions

TIMEOUT_S = 0.5
# Sleeps sit a quarter of the timeout away from every deadline.
MARGIN_S = 0.25


class FakeCall:
    def __init__(self) -> None:
        self.said: list[str] = []
        self.hung_up: list[str] = []
        self.notes: list[str] = []

    def context(self) -> ProcessorContext:
        async def say(line: str) -> None:
            self.said.append(line)

        async def hang_up(reason: str) -> None:
            self.hung_up.append(reason)

        async def unused(*_args, **_kwargs):
            raise AssertionError("the watchdog only speaks and hangs up")

        return ProcessorContext(
            call_id="t",
            profile_name="p",
            say=say,
            tell_model=unused,
            hang_up_after_speech=hang_up,
            run_tool=unused,
            note=lambda _source, event: self.notes.append(event),
        )


def watchdog(call: FakeCall, max_reprompts: int = 1) -> NoInputWatchdog:
    options = WatchdogOptions(
        timeout_s=TIMEOUT_S, max_reprompts=max_reprompts, reprompt="R", closing_line="C"
    )
    return NoInputWatchdog(options, call.context())


async def test_bot_speech_pauses_and_caller_speech_restarts_the_count():
    call = FakeCall()
    frames = [
        BotStartedSpeakingFrame(),
        SleepFrame(3 * TIMEOUT_S),  # a long greeting is not silence
        BotStoppedSpeakingFrame(),
        SleepFrame(TIMEOUT_S + MARGIN_S),  # re-prompt 1
        UserStartedSpeakingFrame(),  # the caller answers: the count starts again
        UserStoppedSpeakingFrame(),
        SleepFrame(TIMEOUT_S + MARGIN_S),  # nothing came back: re-prompt 1 again
        SleepFrame(TIMEOUT_S),  # still nothing: closing line and hang-up
    ]
    await run_test(watchdog(call), frames_to_send=frames)
    assert call.said == ["R", "R", "C"]
    assert call.hung_up == ["no input"]
    assert call.notes[-1].endswith("closing the call")


async def test_a_running_tool_pauses_the_clock():
    call = FakeCall()
    started = FunctionCallsStartedFrame(
        function_calls=[FunctionCallFromLLM("lookup", "c1", {}, None)]
    )
    frames = [
        BotStartedSpeakingFrame(),
        BotStoppedSpeakingFrame(),
        started,
        SleepFrame(4 * TIMEOUT_S),  # a slow tool is not the caller's silence
        FunctionCallResultFrame(function_name="lookup", tool_call_id="c1", arguments={}, result={}),
        SleepFrame(TIMEOUT_S - MARGIN_S),
    ]
    await run_test(watchdog(call), frames_to_send=frames)
    assert call.said == []


async def test_silence_without_any_bot_audio_still_counts():
    call = FakeCall()
    await run_test(watchdog(call), frames_to_send=[SleepFrame(TIMEOUT_S + MARGIN_S)])
    assert call.said == ["R"]


async def test_a_key_press_counts_as_the_caller_answering():
    call = FakeCall()
    frames = [
        SleepFrame(TIMEOUT_S + MARGIN_S),  # re-prompt 1
        InputDTMFFrame(button=KeypadEntry.ONE),  # the count starts again
        SleepFrame(TIMEOUT_S + MARGIN_S),  # re-prompt 1 again, not the closing line
    ]
    await run_test(watchdog(call), frames_to_send=frames)
    assert call.said == ["R", "R"]
