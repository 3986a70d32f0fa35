"""Ending every live call within a bound: a call that will not end is named, not waited on."""

from bot.telephony.live_calls import LiveCalls


class EndsWhenAsked:
    def __init__(self, calls: LiveCalls, call_id: str):
        self.calls, self.call_id, self.reasons = calls, call_id, []

    async def cancel(self, reason: str) -> None:
        self.reasons.append(reason)
        self.calls.remove(self.call_id)


class NeverEnds:
    def __init__(self):
        self.reasons = []

    async def cancel(self, reason: str) -> None:
        self.reasons.append(reason)


async def test_end_all_cancels_every_call_and_names_the_one_that_will_not_end():
    calls = LiveCalls()
    good, stuck = EndsWhenAsked(calls, "good"), NeverEnds()
    calls.add("good", good)
    calls.add("stuck", stuck)

    left = await calls.end_all("server shutting down", grace_s=0.2)

    assert left == ["stuck"]
    assert good.reasons == stuck.reasons == ["server shutting down"]
    assert list(calls) == ["stuck"]
    calls.remove("stuck")  # its task is cancelled later: still named as not having ended
    assert calls.unfinished() == ["stuck"]
    assert await calls.wait_until_none(0.01)


async def test_end_all_with_no_calls_returns_at_once():
    assert await LiveCalls().end_all("server shutting down", grace_s=0) == []
