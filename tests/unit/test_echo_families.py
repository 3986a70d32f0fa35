"""The scenario families for real lines (sim/echo/families.py) and the gate on a few of them.

Each scenario named here let the bot's echo through as a barge-in, or missed the caller,
with the gate as it was before the families existed (seed 7, 16 per family): a 600 ms
trunk, a delay that steps mid-turn, a speakerphone's room tail, a noisy line, a caller
already talking when the bot starts. Deterministic: frame by frame through the gate's own
state machine, scored as ``make bench-echo`` scores them.
"""

import json

import pytest

from bench.echo import run_gate
from bench.echo_metrics import far_active_frames, score
from bot.config.echo import ECHO_PRESETS
from sim.echo import build_scenarios, load_scenarios
from sim.echo.families import FAMILIES


def test_every_family_is_labelled_and_rebuilt_the_same(tmp_path):
    paths = build_scenarios(tmp_path, count=0, seed=7, late_echo=0, per_family=1)
    families = {json.loads(p.read_text())["meta"]["family"] for p in paths}
    assert families == set(FAMILIES)
    for scenario in load_scenarios(tmp_path):
        assert scenario.meta["echo_reach_s"] > 0
        again = FAMILIES[scenario.meta["family"]](0, 1, 7)
        assert (again.near == scenario.near).all() and again.speech == scenario.speech


def test_an_unknown_family_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="unknown family 'tunnel'"):
        build_scenarios(tmp_path, count=0, late_echo=0, per_family=1, families=("tunnel",))


@pytest.mark.parametrize(
    ("family", "index", "before"),
    [
        ("long_delay", 13, "3 false barge-ins (echo 553 ms late, past the 400 ms search)"),
        ("delay_step", 2, "2 false barge-ins (delay 210 -> 149 ms mid-turn)"),
        ("speakerphone", 7, "6 false barge-ins (ERL -1 dB, 335 ms room tail)"),
        ("noisy", 0, "2 false barge-ins (hiss 10.6 dB under the caller's level)"),
        ("double_start", 13, "the caller missed (talking when the bot started)"),
    ],
)
def test_the_gate_holds_where_it_used_to_fail(family, index, before):
    _holds(family, index, before, seed=7)


def _holds(family: str, index: int, before: str, seed: int) -> None:
    scenario = FAMILIES[family](index, 16, seed)
    run = run_gate(scenario, "reference", ECHO_PRESETS["balanced"])
    result = score(
        run,
        far_active_frames(scenario.far),
        scenario.speech,
        len(scenario.meta["bot_turns"]),
        scenario.meta["echo_reach_s"],
    )
    assert result.false_barge_ins == 0, before
    assert result.caught == result.barge_ins, before


@pytest.mark.parametrize(
    ("family", "index", "seed", "before"),
    [
        ("speakerphone", 5, 7, "2 false barge-ins (ERL 0 dB, 295 ms room tail)"),
        ("speakerphone", 0, 11, "1 false barge-in (echo 3 dB louder, its reverberant onset)"),
        ("delay_step", 6, 7, "1 false barge-in (delay 195 -> 91 ms: the old echo stopped)"),
        ("delay_step", 3, 11, "1 false barge-in (delay 235 -> 307 ms)"),
        ("noisy", 11, 7, "1 false barge-in (babble at 11.5 dB SNR before any delay was known)"),
        ("noisy", 15, 11, "1 false barge-in (babble at 12.2 dB SNR)"),
        ("quiet_barge", 1, 7, '"mm-hm" 10.5 dB under the echo missed (under the timing guard)'),
        ("quiet_barge", 3, 7, "a backchannel 11.6 dB under the echo missed"),
    ],
)
def test_the_gate_holds_on_the_hard_lines(family, index, seed, before):
    """Each let echo through, or missed the caller, before the room tail, the missing-echo
    rule, the quiet-caller check and the babble rules (issue 17's second round)."""
    _holds(family, index, before, seed)
