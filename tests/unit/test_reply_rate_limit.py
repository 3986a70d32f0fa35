"""A reply refused by the rate limit after the session is open (pipelines/realtime/
reply_rate_limit.py, response_guard.py), on a fake clock: retried with the session opener's
plan (the server's hint honoured, bounded by the window and the attempts), then the call is
told once to give up; a reply heard starts a new window. The guard recognises both shapes
the API reports a refusal in: a failed response.done and an error event answering our
response.create."""

import asyncio
import random

from pipecat.services.openai.realtime import events

from bot.config.realtime import RealtimeTimeouts, ReconnectPolicy
from pipelines.realtime.errors import classify_error
from pipelines.realtime.reply_rate_limit import ReplyRateLimit
from pipelines.realtime.response_guard import ResponseGuard
from pipelines.realtime.stats import RealtimeHealth

WINDOW_S = 5.0
LIMITED = classify_error(
    "rate_limit_exceeded", "requests", "Rate limit reached ... Please try again in 1s."
)


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Refusals:
    """A plan whose every retry is refused again until ``lifts_after`` retries."""

    def __init__(self, lifts_after: int | None = None, max_attempts: int = 50) -> None:
        self.time = FakeTime()
        self.retries = 0
        self.gave_up: list[str] = []
        self.lifts_after = lifts_after
        self.over = asyncio.Event()  # the reply got through, or the plan gave up
        self.plan = ReplyRateLimit(
            ReconnectPolicy(max_attempts=max_attempts),
            WINDOW_S,
            tag="",
            retry=self.retry,
            give_up=self.give_up,
            create_task=asyncio.create_task,
            clock=self.time.clock,
            sleep=self.time.sleep,
            rng=random.Random(3),
        )

    async def retry(self) -> None:
        self.retries += 1
        if self.lifts_after is not None and self.retries >= self.lifts_after:
            self.plan.answered()
            self.over.set()
        else:
            await self.plan.refused(LIMITED)

    async def give_up(self, cause: str) -> None:
        self.gave_up.append(cause)
        self.over.set()

    async def run(self) -> None:
        self.over.clear()
        await self.plan.refused(LIMITED)
        await asyncio.wait_for(self.over.wait(), 5)


async def test_a_limit_that_does_not_lift_is_retried_after_the_hint_then_given_up_once():
    refusals = Refusals()
    await refusals.run()
    assert len(refusals.gave_up) == 1
    assert (
        "no reply within 5s" in refusals.gave_up[0]
        and "rate_limit_exceeded" in (refusals.gave_up[0])
    )
    assert all(1.0 <= s <= 1.1 for s in refusals.time.sleeps)  # the server's hint
    assert refusals.retries == len(refusals.time.sleeps) >= 3
    assert refusals.time.now < WINDOW_S  # no try starts past the window
    await refusals.plan.refused(LIMITED)  # later refusals change nothing
    assert len(refusals.gave_up) == 1 and not refusals.plan.waiting


async def test_the_attempts_of_the_policy_bound_the_retries_too():
    refusals = Refusals(max_attempts=2)
    await refusals.run()
    assert refusals.retries == 1 and len(refusals.gave_up) == 1


async def test_a_limit_that_lifts_gives_the_reply_and_a_fresh_window():
    refusals = Refusals(lifts_after=2)
    await refusals.run()
    assert refusals.retries == 2 and refusals.gave_up == []
    refusals.time.now += 60  # much later in the call: a new refusal is a new window
    refusals.lifts_after = 99
    await refusals.run()
    assert len(refusals.gave_up) == 1 and refusals.retries > 3


async def test_a_cancelled_retry_is_not_sent():
    refusals = Refusals()
    await refusals.plan.refused(LIMITED)
    assert refusals.plan.waiting
    refusals.plan.cancel()  # e.g. the caller spoke and the server started a reply itself
    await asyncio.sleep(0)
    assert refusals.retries == 0 and not refusals.plan.waiting


async def nothing(*_args) -> None:
    return None


def guard_with(refusals: Refusals, stats: RealtimeHealth, respond=nothing) -> ResponseGuard:
    return ResponseGuard(
        timeouts=RealtimeTimeouts(),
        fallback_instructions="say sorry",
        stats=stats,
        tag="",
        respond=respond,
        send=nothing,
        end_call=nothing,
        can_speak=lambda: True,
        create_task=asyncio.create_task,
        rate_limit=refusals.plan,
    )


def failed_response_done(code: str, etype: str) -> events.ResponseDone:
    return events.ResponseDone.model_validate(
        {
            "type": "response.done",
            "event_id": "event_1",
            "response": {
                "object": "realtime.response",
                "id": "resp_1",
                "status": "failed",
                "status_details": {
                    "type": "failed",
                    "error": {"type": etype, "code": code, "message": "try again in 1s"},
                },
                "output": [],
            },
        }
    )


async def test_the_guard_hands_a_rate_limited_response_done_to_the_plan():
    refusals, stats = Refusals(), RealtimeHealth()
    guard = guard_with(refusals, stats)
    done = failed_response_done("rate_limit_exceeded", "requests")
    await guard.observe(done)
    assert refusals.plan.waiting and guard.reply_owed
    assert done.response.status == "incomplete"  # Pipecat must not end the call on it
    assert stats.responses_retried == 0 and stats.fallback_lines == 0  # not the model's line
    guard.close()
    assert not refusals.plan.waiting


async def test_the_guard_hands_an_error_answering_its_response_create_to_the_plan():
    refusals, stats = Refusals(), RealtimeHealth()
    guard = guard_with(refusals, stats)
    request = events.ResponseCreateEvent()
    guard.requesting(request)
    other = events.RealtimeError(
        type="requests", code="rate_limit_exceeded", message="slow", event_id="evt_other"
    )
    await guard.on_error(other, session_ready=True)
    assert not refusals.plan.waiting and stats.transient_errors == 1  # not our request
    ours = other.model_copy(update={"event_id": request.event_id})
    await guard.on_error(ours, session_ready=True)
    assert refusals.plan.waiting and stats.transient_errors == 1
    guard.close()


def test_azures_rate_limit_code_is_a_rate_limit_too():
    verdict = classify_error("inference_rate_limit_exceeded", "invalid_request_error", "busy")
    assert verdict.rate_limited


async def test_a_refused_scripted_line_is_asked_for_again_with_its_words():
    # The budget line refused once: the retry must say that line, not an ordinary reply,
    # and the line is not done until a response carrying it is done.
    sent: list[events.ResponseCreateEvent] = []
    retried = asyncio.Event()

    async def respond() -> None:  # what the service's _respond_now does, captured
        event = events.ResponseCreateEvent()
        guard.requesting(event)
        sent.append(event)

    async def retry() -> None:
        await respond()
        retried.set()

    plan = ReplyRateLimit(
        ReconnectPolicy(),
        WINDOW_S,
        tag="",
        retry=retry,
        give_up=nothing,
        create_task=asyncio.create_task,
        sleep=FakeTime().sleep,
    )
    guard = ResponseGuard(
        timeouts=RealtimeTimeouts(),
        fallback_instructions="say sorry",
        stats=RealtimeHealth(),
        tag="",
        respond=respond,
        send=nothing,
        end_call=nothing,
        can_speak=lambda: True,
        create_task=asyncio.create_task,
        rate_limit=plan,
    )
    line_done = await guard.say_line("Say exactly: goodbye")
    created = events.parse_server_event(
        '{"type": "response.created", "event_id": "e0", "response": {"id": "resp_1",'
        ' "object": "realtime.response", "status": "in_progress", "output": []}}'
    )
    await guard.observe(created)
    await guard.observe(failed_response_done("rate_limit_exceeded", "tokens"))
    assert not line_done.is_set() and plan.waiting
    await asyncio.wait_for(retried.wait(), 5)
    assert [e.response.instructions for e in sent] == ["Say exactly: goodbye"] * 2
    guard.close()
