"""The phone caller's gap meter: bot audio that arrives after what came before it has
finished playing is a gap the caller hears; audio sent ahead, the pause between two
utterances and a barge-in's clear are not gaps."""

from sim.phone.playout import GapMeter

CHUNK = 0.1  # seconds of audio per chunk


def test_audio_at_real_time_or_ahead_has_no_gaps():
    meter = GapMeter()
    for i in range(20):
        meter.arrived(i * CHUNK, CHUNK)  # each chunk as the one before it ends
    for i in range(20):
        meter.arrived(2.0 + i * CHUNK / 4, CHUNK)  # a burst, far ahead of playback
    assert (meter.late_chunks, meter.heard_gaps, meter.gaps_s) == (0, 0, [])


def test_a_late_chunk_mid_reply_is_a_gap_heard():
    meter = GapMeter()
    for i in range(10):
        meter.arrived(i * CHUNK, CHUNK)  # plays until 1.0 s
    meter.arrived(1.06, CHUNK)  # 60 ms late: heard; plays until 1.16 s
    meter.arrived(1.17, CHUNK)  # 10 ms late: under the 40 ms bar
    assert meter.late_chunks == 2 and meter.heard_gaps == 1
    assert [round(g, 3) for g in meter.gaps_s] == [0.06, 0.01]
    assert [round(t, 2) for t in meter.resumed_at_s] == [1.06, 1.17]


def test_the_pause_between_utterances_and_a_clear_are_not_gaps():
    meter = GapMeter()
    meter.arrived(0.0, 2.0)
    meter.arrived(4.0, 1.0)  # 2 s later: the caller spoke in between
    meter.cleared()  # barge-in: the line was cleared on purpose
    meter.arrived(4.5, 1.0)
    assert meter.gaps_s == []
