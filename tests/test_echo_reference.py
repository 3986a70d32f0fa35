"""The echo reference's ring: what the caller heard, read back across the ring's seam."""

import numpy as np

from processors.echo_reference import ANALYSIS_RATE, EchoReference


def test_what_was_heard_reads_back_exactly_after_the_ring_wraps():
    clock = [0.0]
    reference = EchoReference(clock=lambda: clock[0])
    rng = np.random.default_rng(3)
    chunk = ANALYSIS_RATE // 10  # 100 ms, as the output transport writes it
    heard = []
    for _ in range(700):  # 70 s: past the ring's 64 s capacity
        samples = rng.standard_normal(chunk).astype(np.float32)
        reference.play(samples)
        heard.append(samples)
        clock[0] += 0.1
    played = np.concatenate(heard)
    end = reference.now_index()
    for n in (160, 800, 1601):
        assert np.array_equal(reference.window(end, n), played[-n:])
    seam = 64 * ANALYSIS_RATE  # a window that straddles the ring's end and start
    assert np.array_equal(reference.window(seam + 400, 800), played[seam - 400 : seam + 400])
    # Not yet played (beyond the schedule) is silence, never last lap's audio.
    assert not reference.window(end + 400, 800)[-400:].any()


def test_an_interruption_erases_what_the_caller_will_not_hear():
    clock = [0.0]
    reference = EchoReference(clock=lambda: clock[0])
    reference.play(np.ones(ANALYSIS_RATE, dtype=np.float32))  # 1 s queued at once
    clock[0] = 0.25
    reference.interrupt()
    heard = reference.window(ANALYSIS_RATE, ANALYSIS_RATE)
    assert heard[: ANALYSIS_RATE // 4].all() and not heard[ANALYSIS_RATE // 4 :].any()
