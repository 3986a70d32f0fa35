"""sim/echo builds labelled scenarios in the documented format, the same set for the same seed."""

import json

import numpy as np
import pytest

from sim.echo import build_scenarios, load_scenario, load_scenarios
from sim.echo.scenarios import make_scenario


def test_scenarios_have_the_documented_format(tmp_path):
    paths = build_scenarios(tmp_path, count=3, seed=7, late_echo=0)
    assert len(paths) == 3
    spec = json.loads(paths[1].read_text())
    assert {"far", "near", "rate", "speech"} <= spec.keys()
    assert spec["rate"] == 8000
    scenarios = load_scenarios(tmp_path)
    with_barge_in = scenarios[1]
    [(start, end)] = with_barge_in.speech
    assert 0 < start < end < with_barge_in.near.size / 8000
    assert scenarios[0].speech == []  # one in three is echo only


def test_same_seed_same_set_and_ranges_covered():
    a, b = make_scenario(5, 48, 7), make_scenario(5, 48, 7)
    assert np.array_equal(a.near, b.near) and a.speech == b.speech
    metas = [make_scenario(i, 48, 7).meta for i in range(0, 48, 47)]
    assert [m["delay_ms"] for m in metas] == [20.0, 250.0]


def test_echo_follows_the_far_signal_by_its_delay():
    s = make_scenario(0, 48, 7)  # echo only, no line noise
    delay = round(s.meta["delay_ms"] * 8)
    near, far = s.near.astype(float), s.far.astype(float)
    lags = [float(near[lag:] @ far[: far.size - lag]) for lag in range(0, 400)]
    assert abs(int(np.argmax(lags)) - delay) <= 3


def test_bad_scenario_is_refused_with_its_name(tmp_path):
    (tmp_path / "broken.json").write_text(json.dumps({"far": "x.wav", "rate": 8000}))
    with pytest.raises(ValueError, match=r"broken\.json: missing key"):
        load_scenario(tmp_path / "broken.json")
