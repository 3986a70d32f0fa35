"""The played-audio timeline the echo gate reads: what the caller hears, when, at what cost.

A fake clock stands in for the wall clock, so nothing here waits in real time."""

import numpy as np

from processors.echo.reference import ANALYSIS_RATE, EchoReference

RATE, FRAME = ANALYSIS_RATE, 160


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def speech_like(seconds: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-8000, 8000, int(seconds * RATE)).astype(np.float32)


def heard_at(reference: EchoReference, clock: Clock, t: float) -> np.ndarray:
    """The 20 ms the caller heard just before second ``t`` of the call."""
    clock.now = t
    return reference.window(reference.now_index(), FRAME)


def test_a_long_reply_queued_at_once_is_heard_at_its_own_time():
    """A 40 s reply handed over in one go (far ahead of playback) is not cut short: its last
    seconds are on the timeline when they play, though the ring started at a few seconds."""
    clock = Clock()
    reference = EchoReference(clock=clock)
    reply = speech_like(40, seed=1)
    for start in range(0, reply.size, 4 * FRAME):
        reference.play(reply[start : start + 4 * FRAME])
    for t in (0.5, 10.0, 25.0, 39.9):
        end = round(t * RATE)
        assert np.array_equal(heard_at(reference, clock, t), reply[end - FRAME : end])
    assert np.count_nonzero(heard_at(reference, clock, 41.0)) == 0  # the reply is over


def test_replies_sent_at_twice_real_time_keep_the_ring_small():
    """A minute of a call (3 s replies, sent at 2x as Pipecat's WebSocket output does, 2 s
    of caller turn between them) never needs more than the starting ring: memory per call
    follows what is queued ahead, not the longest reply the ring could ever hold."""
    clock = Clock()
    reference = EchoReference(clock=clock)
    start_capacity = reference.capacity_s
    seed = 0
    while clock.now < 60:
        reply = speech_like(3, seed)
        for chunk_start in range(0, reply.size, FRAME):
            reference.play(reply[chunk_start : chunk_start + FRAME])
            clock.now += FRAME / RATE / 2
        clock.now += 1.5 + 2.0  # the rest of the reply plays out, then the caller talks
        seed += 1
    assert reference.capacity_s == start_capacity <= 4
    # The ring still holds the last reply as heard.
    last_end = round((clock.now - 3.5 + 1.5) * RATE)
    assert np.array_equal(heard_at(reference, clock, last_end / RATE), reply[-FRAME:])


def test_after_growing_the_ring_still_reads_the_recent_past():
    """Growth keeps what the gate reads behind now: the audio heard just before a long reply
    was queued is still there after the ring grew for it."""
    clock = Clock()
    reference = EchoReference(clock=clock)
    first = speech_like(3, seed=2)
    reference.play(first)
    clock.now = 3.0
    reference.play(speech_like(20, seed=3))  # queued far ahead: the ring grows
    assert reference.capacity_s > 4
    assert np.array_equal(reference.window(round(3.0 * RATE), 2 * FRAME), first[-2 * FRAME :])


def test_what_was_heard_reads_back_exactly_after_the_ring_wraps():
    clock = [0.0]
    reference = EchoReference(clock=lambda: clock[0])
    rng = np.random.default_rng(3)
    chunk = ANALYSIS_RATE // 10  # 100 ms, as the output transport writes it
    heard = []
    for _ in range(700):  # 70 s: many laps of the ring
        samples = rng.standard_normal(chunk).astype(np.float32)
        reference.play(samples)
        heard.append(samples)
        clock[0] += 0.1
    played = np.concatenate(heard)
    end = reference.now_index()
    for n in (160, 800, 1601):
        assert np.array_equal(reference.window(end, n), played[-n:])
    size = round(reference.capacity_s * ANALYSIS_RATE)
    seam = end // size * size  # a window that straddles the ring's end and start
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
