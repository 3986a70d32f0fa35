"""A response's life: ``response.create`` → created → streamed → done; cancellation.

One response at a time may write to the conversation (the real API's
``conversation_already_has_active_response``); out-of-band responses (``conversation:
"none"``) run beside it and never touch the conversation.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from loguru import logger
from websockets.exceptions import ConnectionClosed

from sim.realtime.ids import new_id
from sim.realtime.planner import Plan, plan_response
from sim.realtime.responses import (
    ResponseRun,
    stream_failure,
    stream_function_calls,
    stream_message,
    stream_rate_limited,
    usage,
)
from sim.realtime.schema import error

if TYPE_CHECKING:
    from sim.realtime.session import EmulatedSession

# Generous limits, counted down per response like the real headers (values made up).
REQUEST_LIMIT = 5000
TOKEN_LIMIT = 400_000


async def create(session: EmulatedSession, event: dict) -> None:
    params = event.get("response") or {}
    in_conversation = params.get("conversation", "auto") != "none"
    if session.transcription_only:
        await session.send_error(
            error(
                None,  # the real API's code for this is not documented
                "Responses are not supported in transcription sessions.",
                None,
                event.get("event_id"),
            )
        )
        return
    if in_conversation and session.active is not None:
        await session.send_error(
            error(
                "conversation_already_has_active_response",
                "Conversation already has an active response in progress: "
                f"{session.active.id}. Wait until the response is finished before creating "
                "a new one.",
                None,
                event.get("event_id"),
            )
        )
        return
    await start(session, params)


async def cancel(session: EmulatedSession, event: dict) -> None:
    wanted = event.get("response_id")
    runs = [session.active, *session.out_of_band]
    run = next((r for r in runs if r is not None and wanted in (None, r.id)), None)
    if run is None:
        await session.send_error(
            error(
                "response_cancel_not_active",
                "Cancellation failed: no active response found.",
                None,
                event.get("event_id"),
            )
        )
        return
    await stop(session, run, "client_cancelled")


async def start(session: EmulatedSession, params: dict) -> None:
    in_conversation = params.get("conversation", "auto") != "none"
    if in_conversation:
        session.count_typed_turn()
    out_cfg = session.config["audio"]["output"]
    modalities = params.get("output_modalities") or session.config.get("output_modalities")
    # A refused response plans nothing: the script and the reply rotation wait for the retry.
    refused = session.faults.refuses_response(session.response_count)
    if refused:
        logger.info(f"realtime emulator: session {session.id} response refused: rate limit")
    run = ResponseRun(
        id=new_id("resp_"),
        plan=Plan() if refused else plan_response(session, params, in_conversation),
        modalities=list(modalities or ["audio"]),
        in_conversation=in_conversation,
        rate_limited=refused,
    )
    run.response = {
        "object": "realtime.response",
        "id": run.id,
        "status": "in_progress",
        "status_details": None,
        "output": [],
        "conversation_id": session.conversation_id if in_conversation else None,
        "output_modalities": run.modalities,
        "max_output_tokens": params.get(
            "max_output_tokens", session.config.get("max_output_tokens", "inf")
        ),
        "audio": {"output": {"format": out_cfg["format"], "voice": out_cfg["voice"]}},
        "usage": None,
        "metadata": params.get("metadata"),
    }
    if in_conversation:
        session.active = run
    else:
        session.out_of_band.add(run)
    session.response_count += 1
    await session.send("response.created", response=dict(run.response))
    if session.emulator_config.rate_limits:
        await session.send("rate_limits.updated", rate_limits=_rate_limits(session))
    run.task = asyncio.create_task(_run(session, run))


def _rate_limits(session: EmulatedSession) -> list[dict]:
    used_tokens = session.last_input_tokens * session.response_count
    return [
        {
            "name": "requests",
            "limit": REQUEST_LIMIT,
            "remaining": max(0, REQUEST_LIMIT - session.response_count),
            "reset_seconds": 60.0,
        },
        {
            "name": "tokens",
            "limit": TOKEN_LIMIT,
            "remaining": max(0, TOKEN_LIMIT - used_tokens),
            "reset_seconds": 60.0,
        },
    ]


async def _run(session: EmulatedSession, run: ResponseRun) -> None:
    try:
        if run.rate_limited:
            stream_rate_limited(session, run)
        elif run.plan.error is not None:
            await stream_failure(session, run)
        elif run.plan.function_calls:
            await stream_function_calls(session, run)
        elif run.plan.silent:
            run.response["usage"] = usage(session, 0, "")
        else:
            await stream_message(session, run)
        if run.plan.error is not None or run.rate_limited:
            run.response["status"] = "failed"
        elif run.cancel_reason:
            run.response["status"] = "cancelled"
            run.response["status_details"] = {"type": "cancelled", "reason": run.cancel_reason}
        else:
            run.response["status"] = "completed"
        session.responses.append(run.response)
        await session.send("response.done", response=run.response)
        session.response_finished(run)
    except ConnectionClosed:
        # The client hung up mid-response (a call ending): normal, nothing to report.
        logger.debug(f"realtime emulator response {run.id}: client closed the socket")
    except Exception as exc:  # never let a response task die silently
        if not session.closed:
            logger.exception(f"realtime emulator response {run.id} failed: {exc}")
    finally:
        if session.active is run:
            session.active = None
        session.out_of_band.discard(run)


async def stop(session: EmulatedSession, run: ResponseRun, reason: str) -> None:
    run.cancel_reason = reason
    run.wake.set()
    session.cancellations.append(
        {"response_id": run.id, "reason": reason, "at_ms": session.audio_ms}
    )
    if run.task is not None:
        await asyncio.shield(run.task)


async def shutdown(session: EmulatedSession) -> None:
    for run in [session.active, *session.out_of_band]:
        if run is None or run.task is None:
            continue
        run.task.cancel()
        try:
            await run.task
        except (asyncio.CancelledError, Exception):
            pass
