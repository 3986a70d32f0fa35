"""Open one Realtime session up to the point where it can take a conversation:
connect → ``session.created`` → our ``session.update`` → ``session.updated``.

Used for the first connection, every reconnect and every rollover, so each of them has the
same timeouts and the same failure classification; ``open_with_retries`` adds the bounded,
jittered retries of a connect or reconnect.

A rate-limit refusal (``rate_limit_exceeded``, HTTP 429) at a call's start has its own plan:
it is retried only within a window (the connect timeout: a caller is waiting in silence),
after the server's retry hint when it gives one, else with jittered backoff that never
retries straight back; when the window cannot hold another try, the opener gives up at once
and says it was the rate limit, so the call can play its fallback line instead.
"""

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from loguru import logger
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as websocket_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from bot.config.realtime import RealtimeTimeouts, ReconnectPolicy
from pipelines.realtime.errors import (
    ErrorKind,
    RealtimeFailure,
    Verdict,
    classify_error,
    classify_http_status,
    retry_hint_from_headers,
)


@dataclass
class ReadySession:
    ws: ClientConnection
    session_id: str
    expires_at: float | None  # epoch seconds, from session.created
    updated_event: str  # the raw session.updated message, for Pipecat's handler


def _transient(cause: str) -> RealtimeFailure:
    return RealtimeFailure(Verdict(ErrorKind.TRANSIENT, cause))


async def _next_event(ws: ClientConnection, wanted: str, within: float, step: str) -> dict:
    deadline = time.monotonic() + within
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        try:
            raw = await asyncio.wait_for(ws.recv(), remaining)
        except ConnectionClosed as e:
            code = e.rcvd.code if e.rcvd else 1006
            raise _transient(f"connection closed while waiting for {step} (code {code})") from None
        event = json.loads(raw)
        if event.get("type") == "error":
            err = event.get("error") or {}
            raise RealtimeFailure(
                classify_error(err.get("code"), err.get("type"), err.get("message", ""))
            )
        if event.get("type") == wanted:
            event["_raw"] = raw
            return event


async def open_session(
    url: str,
    headers: dict[str, str],
    session_update: dict,
    timeouts: RealtimeTimeouts,
    on_timeout: Callable[[str], None],
) -> ReadySession:
    """Raises RealtimeFailure (``.fatal`` says whether retrying can help)."""
    try:
        ws = await asyncio.wait_for(
            # No permessage-deflate: base64 audio barely compresses, and deflating every
            # 20 ms frame was a top per-frame cost in the load profile (BENCHMARKS.md).
            websocket_connect(url, additional_headers=headers, compression=None),
            timeouts.connect_s,
        )
    except TimeoutError:
        on_timeout("connect")
        raise _transient(f"connect timed out after {timeouts.connect_s:g}s") from None
    except InvalidStatus as e:
        hint = retry_hint_from_headers(e.response.headers)
        raise RealtimeFailure(classify_http_status(e.response.status_code, hint)) from None
    except (OSError, InvalidHandshake) as e:
        raise _transient(f"connect failed: {type(e).__name__}: {e}") from None
    try:
        try:
            created = await _next_event(
                ws, "session.created", timeouts.connect_s, "session.created"
            )
        except TimeoutError:
            on_timeout("connect")
            raise _transient(f"no session.created within {timeouts.connect_s:g}s") from None
        await ws.send(json.dumps(session_update))
        try:
            updated = await _next_event(
                ws, "session.updated", timeouts.session_updated_s, "session.updated"
            )
        except TimeoutError:
            on_timeout("session_updated")
            raise _transient(f"no session.updated within {timeouts.session_updated_s:g}s") from None
    except BaseException:
        await ws.close()
        raise
    session = created.get("session") or {}
    expires = session.get("expires_at")
    return ReadySession(
        ws=ws,
        session_id=str(session.get("id", "")),
        expires_at=float(expires) if expires else None,
        updated_event=updated["_raw"],
    )


@dataclass(frozen=True)
class GaveUp:
    """Why no session could be had: the cause to end the call with, and whether it was the
    account's rate limit (the call then plays its fallback line; docs/operations.md)."""

    cause: str
    rate_limited: bool = False


def retry_delay(
    policy: ReconnectPolicy, attempt: int, verdict: Verdict, rng: random.Random
) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based)."""
    ceiling = min(policy.backoff_max_s, policy.backoff_base_s * 2 ** (attempt - 1))
    if verdict.retry_after_s is not None:
        # The server said when; a little jitter keeps calls refused together apart.
        return verdict.retry_after_s * rng.uniform(1.0, 1.1)
    if verdict.rate_limited:
        # At least half the ceiling: a limit that just said no will not say yes at once.
        return ceiling / 2 + rng.uniform(0, ceiling / 2)
    # Full jitter: calls dropped together do not all come back at once.
    return rng.uniform(0, ceiling)


def rate_limit_retry_in(
    policy: ReconnectPolicy,
    attempt: int,
    verdict: Verdict,
    *,
    elapsed_s: float,
    window_s: float,
    rng: random.Random,
) -> float | None:
    """The rate-limit plan, for a session and for a reply alike: seconds to wait before
    trying again after refusal ``attempt`` (1-based), or None when the attempts are used up
    or the next try would not start within ``window_s`` of the first refusal (``elapsed_s``
    ago)."""
    if attempt >= policy.max_attempts:
        return None
    delay = retry_delay(policy, attempt, verdict, rng)
    return None if elapsed_s + delay >= window_s else delay


async def open_with_retries(
    open_once: Callable[[], Awaitable[ReadySession]],
    policy: ReconnectPolicy,
    *,
    why: str,
    tag: str,
    closing: Callable[[], bool],
    rate_limit_window_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> tuple[ReadySession | None, int, GaveUp | None]:
    """(session, attempts, None), or (None, attempts, why not). ``rate_limit_window_s``:
    rate-limit refusals are retried only while the next try starts within this many seconds
    of the first (a call's start); without it they are retried like any transient failure."""
    rng = rng or random.Random()
    started = clock()
    for attempt in range(1, policy.max_attempts + 1):
        try:
            return await open_once(), attempt, None
        except RealtimeFailure as failure:
            verdict = failure.verdict
            if failure.fatal or closing():
                return None, attempt, GaveUp(verdict.cause)
            planned = verdict.rate_limited and rate_limit_window_s is not None
            logger.warning(
                f"{tag}Realtime {why}: attempt {attempt}/{policy.max_attempts} "
                f"failed: {verdict.cause}"
            )
            if planned:
                delay = rate_limit_retry_in(
                    policy,
                    attempt,
                    verdict,
                    elapsed_s=clock() - started,
                    window_s=rate_limit_window_s,
                    rng=rng,
                )
            else:
                delay = retry_delay(policy, attempt, verdict, rng)
            if delay is None:
                tries = f"{attempt} attempt" + ("s" if attempt > 1 else "")
                cause = (
                    f"rate limited: no Realtime session within {rate_limit_window_s:g}s "
                    f"({tries}): {verdict.cause}"
                )
                return None, attempt, GaveUp(cause, rate_limited=True)
            if attempt == policy.max_attempts:
                cause = f"Realtime API unreachable after {attempt} attempts: {verdict.cause}"
                return None, attempt, GaveUp(cause, rate_limited=planned)
            await sleep(delay)
    return None, policy.max_attempts, None
