"""The echo bench's peer (WebRTC AEC3 + Silero VAD) runs on the same scenarios as the gate.

Its binding is built from source, so it is only in the ``bench`` dependency group
(`make bench-echo`); where that group is not installed these tests skip, saying so.
"""

import numpy as np
import pytest

from bench import echo_peer
from sim.echo.scenarios import make_scenario

_REASON = echo_peer.unavailable()
pytestmark = pytest.mark.skipif(_REASON is not None, reason=f"peer not installed: {_REASON}")


def _db(signal: np.ndarray) -> float:
    return 10 * np.log10(np.mean(np.square(signal, dtype=np.float64)) + 1e-9)


def test_the_peer_cancels_most_of_the_echo_and_hears_no_caller_in_it():
    scenario = make_scenario(0, 48, 7)  # echo only, 20 ms, quiet line
    cleaned = echo_peer.cancel_echo(scenario.far, scenario.near)
    settled = slice(2 * 8000, cleaned.size)  # after AEC3 has converged
    assert _db(cleaned[settled]) < _db(scenario.near[: cleaned.size][settled]) - 10
    assert not echo_peer.run_peer(scenario.far, scenario.near).passed.any()


def test_the_peer_passes_a_barge_in():
    scenario = make_scenario(1, 48, 7)  # a barge-in over the bot
    run = echo_peer.run_peer(scenario.far, scenario.near)
    (start, end) = scenario.speech[0]
    assert run.passed[int(start / 0.02) : int(end / 0.02)].any()
