"""The rate-limit plan at a call's start (pipelines/realtime/session_opener.py), on a fake
clock: refusals are retried with backoff only within the connect timeout, after the
server's retry hint when it gives one, and a transient refusal followed by a session gives
a normal start. Also: how the refusals are recognised, and the fallback recording."""

import random
import wave

import pytest

from bot.call.fallback_prompt import (
    BUNDLED_FALLBACK_AUDIO,
    BUNDLED_FALLBACK_TEXT,
    check_fallback_audio,
    read_recording,
)
from bot.config.errors import ConfigError
from bot.config.profiles import load_profile
from bot.config.realtime import ReconnectPolicy
from bot.telephony.metrics import end_reason_class
from pipelines.realtime.errors import (
    ErrorKind,
    RealtimeFailure,
    Verdict,
    classify_error,
    classify_http_status,
    retry_hint_from_headers,
    retry_hint_from_message,
)
from pipelines.realtime.session_opener import open_with_retries

CONNECT_S = 5.0
EMULATOR_MESSAGE = (
    "Rate limit reached for gpt-realtime in organization org-emulator on requests per min "
    "(RPM): Limit 100, Used 100, Requested 1. Please try again in 1.5s. Visit "
    "https://platform.openai.com/account/rate-limits to learn more."
)


class FakeTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Server:
    """Answers each attempt from a list of verdicts (None: a session), noting when."""

    def __init__(self, time: FakeTime, answers: list[Verdict | None]) -> None:
        self.time = time
        self.answers = answers
        self.attempts_at: list[float] = []

    async def open_once(self) -> str:
        self.attempts_at.append(self.time.now)
        answer = self.answers[min(len(self.attempts_at), len(self.answers)) - 1]
        if answer is not None:
            raise RealtimeFailure(answer)
        return "session"


async def run_plan(answers, *, window_s=CONNECT_S, policy=None, seed=1):
    time = FakeTime()
    server = Server(time, answers)
    ready, attempts, gave_up = await open_with_retries(
        server.open_once,
        policy or ReconnectPolicy(max_attempts=50),
        why="connect",
        tag="",
        closing=lambda: False,
        rate_limit_window_s=window_s,
        clock=time.clock,
        sleep=time.sleep,
        rng=random.Random(seed),
    )
    return ready, attempts, gave_up, server, time


@pytest.mark.parametrize("seed", range(20))
async def test_rate_limit_retries_back_off_and_stop_within_the_connect_timeout(seed):
    limited = classify_error("rate_limit_exceeded", "requests", "over the limit")
    ready, attempts, gave_up, server, time = await run_plan([limited], seed=seed)
    assert ready is None and gave_up is not None and gave_up.rate_limited
    assert "no Realtime session within 5s" in gave_up.cause
    assert attempts >= 3 and len(server.attempts_at) == attempts
    # Every try starts within the window, and the caller is not kept waiting past it.
    assert time.now < CONNECT_S and server.attempts_at[-1] < CONNECT_S
    # Backoff: never straight back, and each wait at least half as long as the one before.
    assert all(s > 0.1 for s in time.sleeps)
    assert all(b >= a / 2 for a, b in zip(time.sleeps, time.sleeps[1:], strict=False))


async def test_the_servers_retry_hint_is_honoured():
    limited = classify_error("rate_limit_exceeded", "requests", EMULATOR_MESSAGE)
    assert limited.retry_after_s == 1.5
    _ready, attempts, gave_up, _server, time = await run_plan([limited])
    # Tries at 0, ~1.5, ~3.1, ~4.7; one more wait would end past 5 s.
    assert gave_up.rate_limited and attempts == 4 and time.now < CONNECT_S
    assert all(1.5 <= s <= 1.65 for s in time.sleeps)


async def test_a_hint_past_the_connect_timeout_gives_up_at_once():
    limited = classify_http_status(429, retry_after_s=30)
    _ready, attempts, gave_up, _server, time = await run_plan([limited])
    assert gave_up.rate_limited and attempts == 1 and time.sleeps == []


async def test_a_transient_429_then_a_session_is_a_normal_start():
    ready, attempts, gave_up, _server, time = await run_plan(
        [classify_http_status(429, retry_after_s=0.5), None]
    )
    assert ready == "session" and attempts == 2 and gave_up is None
    assert 0.5 <= time.sleeps[0] <= 0.55


async def test_without_the_window_a_rate_limit_is_an_ordinary_transient_failure():
    # Mid-call (a reconnect): the conversation is held, the usual bounded retries apply.
    limited = classify_http_status(429)
    _ready, attempts, gave_up, _server, _time = await run_plan(
        [limited], window_s=None, policy=ReconnectPolicy(max_attempts=4)
    )
    assert attempts == 4 and not gave_up.rate_limited
    assert "unreachable after 4 attempts" in gave_up.cause


async def test_other_failures_at_connect_keep_their_own_retries():
    server_error = classify_http_status(503)
    _ready, attempts, gave_up, _server, _time = await run_plan(
        [server_error], policy=ReconnectPolicy(max_attempts=3)
    )
    assert attempts == 3 and not gave_up.rate_limited


def test_rate_limit_refusals_are_recognised_with_their_hints():
    assert classify_error("rate_limit_exceeded", "tokens", "slow down").rate_limited
    assert classify_error(None, "rate_limit_error", "slow down").rate_limited
    assert not classify_error("server_error", "server_error", "oops").rate_limited
    assert not classify_error("insufficient_quota", "insufficient_quota", "pay").rate_limited
    assert classify_error("insufficient_quota", "insufficient_quota", "").kind is ErrorKind.FATAL
    verdict = classify_http_status(429, retry_after_s=2)
    assert verdict.rate_limited and verdict.cause == "rate limited (HTTP 429, retry in 2s)"
    assert retry_hint_from_message("Please try again in 684ms.") == pytest.approx(0.684)
    assert retry_hint_from_message("Please try again in 1m30s.") == 90
    assert retry_hint_from_message("no hint here") is None
    assert retry_hint_from_headers({"retry-after-ms": "250", "retry-after": "1"}) == 0.25
    assert retry_hint_from_headers({"retry-after": "3"}) == 3
    assert retry_hint_from_headers({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}) is None


def test_rate_limited_calls_have_their_own_end_class():
    assert end_reason_class("rate limited") == "rate_limited"


def test_shipped_profiles_have_a_recording_of_their_fallback_line():
    bundled = read_recording(BUNDLED_FALLBACK_AUDIO)
    assert bundled.sample_rate == 16000 and 2.0 < bundled.seconds < 4.0
    default = load_profile("default")
    assert default.fallback_line == BUNDLED_FALLBACK_TEXT.read_text().strip()
    noisy = load_profile("noisy_line")
    assert noisy.fallback_audio and noisy.fallback_audio.endswith("noisy_line_fallback.wav")
    assert check_fallback_audio(noisy).seconds > 2.0


def test_a_bad_fallback_recording_stops_start_up_naming_the_key(tmp_path):
    stereo = tmp_path / "stereo.wav"
    with wave.open(str(stereo), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0" * 800)
    for path, says in ((stereo, "mono 16-bit"), (tmp_path / "missing.wav", "cannot read")):
        profile = load_profile("default").model_copy(update={"fallback_audio": str(path)})
        with pytest.raises(ConfigError, match=f"profile default: fallback_audio.*{says}"):
            check_fallback_audio(profile)
