"""Echo that shows up only after the bot has been talking (the late-echo scenario family).

The end-to-end echo call's start-of-call defect in miniature: the caller's input is quiet
next to the bot's first words (a backlog of input spoken before the bot was heard, or a
phone that leaks echo only later), so the ERL bound learned from it decays tens of dB; then
the echo arrives. These are the scenarios of ``make bench-echo``'s late-echo family that let
echo through as a barge-in before the fix. Deterministic: frame by frame, no clock.
"""

import numpy as np
import pytest

from bot.config.echo import ECHO_PRESETS
from processors.echo.detector import FRAME, RATE
from processors.echo.state import GateCore
from sim.echo.late_echo import make_late_echo_scenario

BALANCED = ECHO_PRESETS["balanced"]
OPEN_FRAMES = BALANCED.open_ms * RATE // 1000 // FRAME
TAIL = BALANCED.tail_ms * RATE // 1000
# (index in the 24-scenario family, seed 7): each let echo through before the fix.
FAILED_BEFORE = [2, 10, 17, 23]


def run_gate(index: int):
    """Every frame through the gate's own state machine, as the pipeline and bench run it."""
    scenario = make_late_echo_scenario(index, 24, seed=7)
    core: GateCore[int] = GateCore("reference", BALANCED)
    far, near = scenario.far.astype(float), scenario.near.astype(float)
    audible_until = -1
    speech, openings = [], []
    for k in range(far.size // FRAME):
        lo, hi = k * FRAME, (k + 1) * FRAME
        if np.sqrt(np.mean(far[lo:hi] ** 2)) > 200:  # the bot's audio is audible
            audible_until = hi + TAIL
        before = core.state
        core.process(k, near[lo:hi], far[lo:hi], bot_audible=hi < audible_until)
        verdict = core.last_verdict  # None: idle, nothing judged
        speech.append(verdict is not None and verdict.speech)
        if core.state == "open" and before != "open":
            openings.append(k * FRAME / RATE)
    return scenario, np.array(speech), openings


def longest_run(flags: np.ndarray) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


@pytest.mark.parametrize("index", FAILED_BEFORE)
def test_late_echo_is_never_taken_for_the_caller(index):
    scenario, speech, openings = run_gate(index)
    caller_from = scenario.speech[0][0] - 0.2 if scenario.speech else np.inf
    echo_only = speech[: int(min(caller_from, speech.size * FRAME / RATE) * RATE) // FRAME]
    onset = round(scenario.meta["echo_onset_s"] * RATE) // FRAME
    assert echo_only[onset:].size >= 20, "the scenario has echo before any barge-in"
    # At most a frame or two looks like speech while 40 ms of echo prove the delay: never
    # the run that opens the gate.
    assert longest_run(echo_only) < OPEN_FRAMES
    assert all(t >= caller_from for t in openings), (openings, scenario.meta)


@pytest.mark.parametrize("index", [2, 17])  # the two of them with a barge-in
def test_a_real_barge_in_after_late_echo_is_still_caught(index):
    scenario, _, openings = run_gate(index)
    [(start, end)] = scenario.speech
    assert any(start - 0.2 <= t <= end for t in openings), (openings, scenario.speech)
