"""The phone caller's gap meter: a reply that stalls mid-way is counted as the caller heard
it; the pause between two utterances and a barge-in's clear are not gaps."""

from sim.phone.playout import GapMeter

F = 0.02


def play(meter: GapMeter, pattern: str, t0: float = 0.0) -> float:
    """One tick per character: '#' a full frame of bot audio, '.' none, '-' half a frame."""
    t = t0
    for c in pattern:
        meter.played(t, {"#": F, ".": 0.0, "-": F / 2}[c], F)
        t += F
    return t


def test_a_steady_reply_has_no_gaps():
    meter = GapMeter()
    play(meter, "#" * 100)
    assert (meter.late_chunks, meter.heard_gaps, meter.gaps_s) == (0, 0, [])


def test_a_stall_mid_reply_is_a_gap_heard():
    meter = GapMeter()
    play(meter, "#" * 20 + "..." + "#" * 20 + "-" + "#" * 5)
    assert meter.late_chunks == 2
    assert meter.heard_gaps == 1  # 60 ms heard; the 10 ms one is under the 40 ms bar
    assert [round(g, 3) for g in meter.gaps_s] == [0.06, 0.01]


def test_the_pause_between_utterances_and_a_clear_are_not_gaps():
    meter = GapMeter()
    t = play(meter, "#" * 20 + "." * 100 + "#" * 20)  # 2 s: the caller spoke in between
    t = play(meter, "#" * 5, t)
    meter.cleared()  # barge-in: the line was cleared on purpose
    play(meter, "...." + "#" * 5, t)
    assert meter.gaps_s == []
