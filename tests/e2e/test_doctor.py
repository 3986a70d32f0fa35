"""`python runner.py check` against the Realtime emulator: every fault mode gets its own
one-line cause and a non-zero exit; a healthy emulator passes. Runs the real CLI."""

import asyncio
import sys

import pytest

from sim.bot_process import REPO, bot_env
from sim.realtime import EmulatorConfig, Faults, RealtimeEmulator

pytestmark = pytest.mark.e2e


async def run_check(tmp_path, url: str, *extra: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "runner.py",
        "check",
        "--realtime-url",
        url,
        *extra,
        cwd=REPO,
        env=bot_env(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode, out.decode()


FAULTS = {
    "bad_key": (Faults(bad_key=True), "check failed: wrong API key (invalid_api_key)"),
    "model_not_found": (
        Faults(model_not_found=True),
        "check failed: unknown model or no access to it (model_not_found)",
    ),
    "no_session_updated": (
        Faults(no_session_updated=True),
        "check failed: session.update: hung 3s waiting for session.updated",
    ),
    "first_audio_delay_s": (
        Faults(first_audio_delay_s=10.0),
        "check failed: response: hung 3s waiting for the first audio of a response",
    ),
    "session_expired_after_s": (
        Faults(session_expired_after_s=0.05),
        "check failed: session reached its maximum duration (session_expired)",
    ),
    "drop_after_s": (Faults(drop_after_s=0.05), "check failed: connection closed (code 1006)"),
    "rate_limited": (Faults(rate_limited=True), "check failed: rate limited (rate_limit_exceeded)"),
    "http_status": (Faults(http_status=429), "check failed: rate limited (HTTP 429)"),
    "rate_limited_responses": (
        Faults(rate_limited_responses=5),
        "check failed: response failed: rate limited (rate_limit_exceeded)",
    ),
}
# Modifiers of the faults above, not faults of their own.
FAULT_MODIFIERS = {"rate_limited_responses_after", "retry_after_s"}


def test_every_fault_mode_is_covered():
    assert set(FAULTS) | FAULT_MODIFIERS == set(Faults.model_fields)


async def test_each_fault_names_its_cause_and_fails(tmp_path):
    emulators = [RealtimeEmulator(EmulatorConfig(faults=f)) for f, _ in FAULTS.values()]
    healthy = RealtimeEmulator(EmulatorConfig())
    for emu in [*emulators, healthy]:
        await emu.start()
    try:
        runs = await asyncio.gather(
            *(run_check(tmp_path, emu.url, "--timeout", "3") for emu in emulators),
            run_check(tmp_path, healthy.url),
        )
    finally:
        for emu in [*emulators, healthy]:
            await emu.stop()
    *faulty, (ok_code, ok_out) = runs
    for (name, (_, expected)), (code, out) in zip(FAULTS.items(), faulty, strict=True):
        assert code == 1, f"{name}: exit {code}\n{out}"
        assert expected in out, f"{name}:\n{out}"
        assert out.count("check failed:") == 1
    assert ok_code == 0, ok_out
    for step in ("DNS", "TCP connect", "WebSocket", "session.created", "session.update"):
        assert f"  ok  {step}" in ok_out
    assert "check passed" in ok_out


@pytest.mark.parametrize(
    ("scheme_url", "expected"),
    [
        ("ws://nonexistent.invalid/v1/realtime", "check failed: DNS: cannot resolve"),
        ("wss://{host}/v1/realtime", "check failed: TLS: handshake with 127.0.0.1"),
    ],
)
async def test_dns_and_tls_failures_are_named(tmp_path, scheme_url, expected):
    async with RealtimeEmulator(EmulatorConfig()) as emu:
        url = scheme_url.format(host=f"127.0.0.1:{emu.port}")
        code, out = await run_check(tmp_path, url)
    assert code == 1 and expected in out, out
