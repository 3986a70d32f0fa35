"""Caller audio in larger frames (AUDIO_IN_BATCH_MS): fewer, longer frames through the
pipeline, and not a sample of the caller's audio lost or reordered."""

import pytest
from pipecat.frames.frames import InputAudioRawFrame

from bot.config.errors import ConfigError
from bot.config.settings import load_settings
from pipelines.transports.inbound_audio_batch import InboundAudioBatch

LINE_20MS = 320  # bytes of 16-bit PCM at 8 kHz


def line_frame(index: int) -> InputAudioRawFrame:
    return InputAudioRawFrame(
        audio=bytes([index % 256]) * LINE_20MS, sample_rate=8000, num_channels=1
    )


def test_a_batch_leaves_once_full_with_its_frames_in_order():
    batch = InboundAudioBatch(60)
    out = [batch.add(line_frame(i)) for i in range(7)]
    assert [f is not None for f in out] == [False, False, True, False, False, True, False]
    assert out[2].audio == b"".join(line_frame(i).audio for i in range(3))
    assert out[5].audio == b"".join(line_frame(i).audio for i in range(3, 6))
    assert (out[5].sample_rate, out[5].num_channels) == (8000, 1)


def test_20_ms_batches_and_long_frames_pass_as_they_are():
    frame = line_frame(1)
    assert InboundAudioBatch(20).add(frame) is frame
    long = InputAudioRawFrame(audio=bytes(8 * LINE_20MS), sample_rate=8000, num_channels=1)
    assert InboundAudioBatch(100).add(long).audio == long.audio


@pytest.mark.parametrize("value", ["30", "0", "220"])
def test_a_batch_that_is_not_whole_line_frames_stops_start_up(monkeypatch, value):
    monkeypatch.setenv("AUDIO_IN_BATCH_MS", value)
    with pytest.raises(ConfigError) as e:
        load_settings(_env_file=None)
    assert "AUDIO_IN_BATCH_MS" in str(e.value)
