"""Callers who start over loud echo are let through within 300 ms (issue 17's catch latency).

Each scenario named here was caught only at the next dip of the echo, far later, by the gate
as it was before (seeds 7 and 11, as ``make bench-echo`` builds them). Deterministic: frame
by frame through the gate's own state machine, scored as the benchmark scores them; the
latency is on the scenario's own timeline, not the wall clock.
"""

import pytest

from bench.echo import run_gate
from bench.echo_metrics import far_active_frames, score
from bot.config.echo import ECHO_PRESETS
from sim.echo.families import FAMILIES, FAMILY_COUNT
from sim.echo.late_echo import make_late_echo_scenario
from sim.echo.scenarios import LATE_ECHO_COUNT, Scenario, make_scenario

CATCH_BOUND_S = 0.3


def _scenario(family: str, index: int, seed: int) -> Scenario:
    if family == "main":
        return make_scenario(index, 48, seed)
    if family == "late_echo":
        return make_late_echo_scenario(index, LATE_ECHO_COUNT, seed)
    return FAMILIES[family](index, FAMILY_COUNT, seed)


def _caught_within(scenario: Scenario) -> list[float]:
    run = run_gate(scenario, "reference", ECHO_PRESETS["balanced"])
    result = score(
        run,
        far_active_frames(scenario.far),
        scenario.speech,
        len(scenario.meta.get("bot_turns", [])) or 1,
        scenario.meta.get("echo_reach_s", 0.0),
    )
    assert result.false_barge_ins == 0
    assert result.caught == result.barge_ins
    return result.catch_latency_s


@pytest.mark.parametrize(
    ("family", "index", "seed", "before"),
    [
        (
            "late_echo",
            11,
            7,
            "1.06 s: the room tail took the filter's first trusted frame for the 0 dB bound",
        ),
        ("speakerphone", 4, 7, "1.59 s: a fresh filter fitted the caller as echo (double talk)"),
        ("main", 41, 11, "0.58 s: a search on the caller's onset moved the delay and back"),
        (
            "quiet_barge",
            3,
            11,
            "the second backchannel missed: the delay moved on the first and back, and the"
            " filter started over",
        ),
    ],
)
def test_a_caller_over_echo_is_caught_within_300_ms(family, index, seed, before):
    latencies = _caught_within(_scenario(family, index, seed))
    assert max(latencies) <= CATCH_BOUND_S, before


@pytest.mark.parametrize(
    ("index", "before"),
    [
        # (quiet_barge 11 s11, "right" 15.9 dB under the echo, and noisy 10 s11 are caught
        # only when the room tail learns from the filter's prediction at its first trusted
        # frame; that made the e2e echo call's greeting leak in 1 of 15 runs on the fast
        # lane, so the tail learns from the echo's power there: both still open.)
        (12, '"excuse me" 16.4 dB under the echo missed, the same way'),
    ],
)
def test_a_quiet_backchannel_on_a_dry_line_is_caught(index, before):
    """The room tail starts at -5 dB one frame on; on a handset line it must learn that the
    room hardly rings before the caller's backchannel, or it hides them (seed 11)."""
    _caught_within(_scenario("quiet_barge", index, 11))
