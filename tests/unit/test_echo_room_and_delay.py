"""The echo detector's room-tail model and its delay tracking (processors/echo/room_tail.py,
processors/echo/delay.py), on synthetic lines whose truth is known."""

import numpy as np

from bot.config.echo import ECHO_PRESETS
from processors.echo.detector import FRAME, RATE, EchoDetector
from processors.echo.room_tail import TAIL_FRAMES, RoomTail
from sim.echo.families import reverb_path
from sim.echo.scenarios import AUDIO_DIR
from sim.phone.audio import load_wav_8k


def _bot_speech(seconds: float) -> np.ndarray:
    """The bundled bot reply, looped: real speech with its pauses (int16 scale)."""
    clip = load_wav_8k(AUDIO_DIR / "bot_reply_1.wav").astype(np.float64)
    return np.tile(clip, int(seconds * RATE) // clip.size + 1)[: int(seconds * RATE)]


def _frame_powers(signal: np.ndarray) -> np.ndarray:
    frames = signal[: signal.size // FRAME * FRAME].reshape(-1, FRAME)
    return np.mean(frames**2, axis=1)


def _run_room(direct: np.ndarray, residual: np.ndarray) -> tuple[RoomTail, list[float]]:
    """The room model fed frame by frame as the detector does: each frame's predicted echo
    power, and what the residual held; returns it and its estimates over the last second."""
    room, estimates = RoomTail(), []
    for k, (echo, missed) in enumerate(zip(direct, residual, strict=True)):
        estimate = room.estimate()
        room.learn(missed, estimate)
        room.push(echo)
        if k >= direct.size - 50:
            estimates.append(estimate)
    return room, estimates


def test_the_room_model_learns_a_ringing_room_and_forgets_a_dry_one():
    rng = np.random.default_rng(3)
    speech = _bot_speech(8.0)
    ir = reverb_path(0.4, rng)  # RT60 400 ms, direct-to-reverberant about 0 dB
    direct = _frame_powers(speech)
    tail_only = _frame_powers(np.convolve(speech, np.r_[0.0, ir[1:]])[: speech.size])
    # The room's own tail (what a 6 ms filter can't cancel) is what the residual holds.
    room, estimates = _run_room(direct, tail_only)
    real = tail_only[-50:]
    ringing = real > 0.01 * real.max()
    error_db = 10 * np.log10(np.asarray(estimates)[ringing] / real[ringing])
    # Within 2.5 dB where the room rings (it errs low by design: it rises slower than it
    # falls); the model it starts from, unlearned, is 3.4 dB low on this room.
    assert abs(float(np.median(error_db))) < 2.5
    assert room.weights[0] > 0.35  # it learned that this room rings louder than it assumed

    dry, _ = _run_room(direct, np.zeros_like(direct))
    assert dry.weights.sum() < 1e-3  # a handset: nothing rings, the tail is unlearned
    assert dry.weights.size == TAIL_FRAMES


def _detector_on(near: np.ndarray, far: np.ndarray) -> list[int | None]:
    """The detector over a whole line, frame by frame; the delay after each frame."""
    detector, delays = EchoDetector(ECHO_PRESETS["balanced"]), []
    for k in range(near.size // FRAME):
        lo, hi = k * FRAME, (k + 1) * FRAME
        detector.frame(near[lo:hi], far[lo:hi])
        delays.append(detector.delay)
    return delays


def _echo(far: np.ndarray, delay: int, gain_db: float = -10) -> np.ndarray:
    return np.concatenate([np.zeros(delay), far[: far.size - delay]]) * 10 ** (gain_db / 20)


def test_delay_tracking_follows_a_step_within_a_few_hundred_ms():
    rng = np.random.default_rng(5)
    far = _bot_speech(6.0)
    before, after, step_at = 800, 1800, 3 * RATE  # 100 ms, then 225 ms (a jitter buffer grew)
    near = np.concatenate([_echo(far, before)[:step_at], _echo(far, after)[step_at:]])
    near += rng.standard_normal(near.size) * 3.0  # line noise at about -80 dBFS
    delays = _detector_on(near, far)
    step_frame = step_at // FRAME
    assert abs(delays[step_frame - 1] - before) <= 2  # found before the step
    # The new delay within 300 ms of bot speech after the step (the bot may pause there).
    assert any(abs((d or 0) - after) <= 2 for d in delays[step_frame : step_frame + 15])
    assert abs(delays[-1] - after) <= 2


def test_echo_that_stops_is_not_taken_for_a_caller():
    """The echo path goes silent mid-turn (the delay stepped to where the bot paused, the
    phone's own canceller kicked in): the filter predicts echo that isn't there, and its
    residual is the prediction turned over, not a voice."""
    far = _bot_speech(5.0)
    near = _echo(far, 800)
    near[int(2.5 * RATE) :] = 0.0
    near += np.random.default_rng(7).standard_normal(near.size) * 3.0
    detector = EchoDetector(ECHO_PRESETS["balanced"])
    verdicts = []
    for k in range(near.size // FRAME):
        lo, hi = k * FRAME, (k + 1) * FRAME
        verdicts.append(detector.frame(near[lo:hi], far[lo:hi]).speech)
    assert detector.delay is not None
    assert not any(verdicts[int(2.5 * RATE) // FRAME :])
