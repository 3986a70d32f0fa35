"""Scenario families for the lines people really call from (issue 17), beside the main set.

Each family changes one thing about the line and keeps the rest of the main set's recipe (bot
turns through G.711, telephone band-pass, line noise, two in three with a barge-in); its
scenarios carry ``meta.family`` and ``meta.echo_reach_s`` (how long after the bot's audio its
echo can still be on the input: the scorer counts false barge-ins over that reach).

- ``long_delay``: round-trip echo delay 250-600 ms (SIP trunks and PBX jitter buffers).
- ``speakerphone``: ERL -3..+6 dB (echo up to 3 dB *louder* than the bot's level after the
  phone's gain) with a 150-400 ms exponentially decaying room tail, not a single tap.
- ``ulaw``: far and near each through two G.711 mu-law round trips (two hops, e.g. PBX and
  trunk), and the handset's soft clipping on what its microphone picks up.
- ``delay_step``: the echo delay jumps by 40-200 ms (either way) mid bot turn (a jitter
  buffer resizes, the call is re-routed).
- ``noisy``: stationary (telephone-band hiss) or babble (five other voices) at 10-20 dB SNR
  under the echo and the caller.
- ``quiet_barge``: the caller 10-18 dB below the echo's level, and short backchannels
  ("yes", "mm-hm", "okay", "right") that are real speech and must pass.
- ``double_start``: the caller is already talking when the bot starts a turn; the label
  starts where the bot's audio does (passing the caller before that proves nothing).
- ``pause_resume``: the start-of-call defect: the bot's phrase pauses 0.3-0.8 s and resumes,
  the echo appears only with the resumed phrase, so the delay is found mid-phrase (the
  late-echo family with a longer delay range and louder echo).

The numbers' sources are in docs/echo_gate.md (ITU-T G.131/G.168, typical jitter buffers).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from sim.echo.paths import RATE, EchoPathSpec, active_rms, line_noise, scale_to_dbfs, telephone
from sim.echo.scenarios import (
    AUDIO_DIR,
    BOT_CLIPS,
    CALLER_CLIPS,
    CALLER_DBFS,
    NOISE_DBFS,
    Scenario,
    _mu_law,
    _voiced_span,
)
from sim.phone.audio import load_wav_8k

BACKCHANNEL_CLIPS = (
    "backchannel_yes.wav",
    "backchannel_mmhm.wav",
    "backchannel_okay.wav",
    "backchannel_right.wav",
)
FAMILY_COUNT = 16  # scenarios per family in the project's set
_LEAD_S, _GAP_S, _TRAIL_S = 0.4, 1.5, 1.2


def _clip(name: str) -> np.ndarray:
    return load_wav_8k(AUDIO_DIR / name).astype(np.float64)


def _dbfs(signal: np.ndarray) -> float:
    level = active_rms(signal)
    return 20 * np.log10(max(level, 1e-9) / 32768)


def reverb_path(tail_s: float, rng: np.random.Generator) -> np.ndarray:
    """A room's response: the direct sound, then exponentially decaying diffuse reflections
    down 60 dB at ``tail_s`` (the RT60), direct-to-reverberant ratio about 0 dB."""
    n = int(tail_s * RATE)
    t = np.arange(n) / RATE
    diffuse = rng.standard_normal(n) * 10 ** (-3 * t / tail_s)
    diffuse[: int(0.002 * RATE)] = 0.0  # first reflections after 2 ms
    diffuse *= 1.0 / np.sqrt(np.sum(diffuse**2))
    ir = diffuse
    ir[0] = 1.0
    return ir


def _echo(heard: np.ndarray, delay_ms: float, erl_db: float, ir: np.ndarray | None) -> np.ndarray:
    if ir is None:
        return EchoPathSpec(delay_ms=delay_ms, erl_db=erl_db).apply(heard)
    shaped = telephone(np.convolve(heard, ir)[: heard.size])
    delay = round(delay_ms * RATE / 1000)
    echo = np.concatenate([np.zeros(delay), shaped])[: heard.size]
    gain = active_rms(heard) / max(active_rms(echo), 1e-9) * 10 ** (-erl_db / 20)
    return echo * gain


def _soft_clip(signal: np.ndarray, knee_dbfs: float) -> np.ndarray:
    knee = 32768 * 10 ** (knee_dbfs / 20)
    return knee * np.tanh(signal / knee)


def _babble(n: int, rng: np.random.Generator) -> np.ndarray:
    """Five other voices talking at once (not the bot's: those would correlate with it)."""
    out = np.zeros(n)
    for name in rng.choice(CALLER_CLIPS, size=5):
        voice = _clip(str(name))
        voice = voice[: voice.size // 160 * 160]
        reps = np.tile(voice, n // voice.size + 2)
        start = int(rng.integers(0, voice.size))
        out += reps[start : start + n] * rng.uniform(0.6, 1.0)
    return telephone(out)


class _Builder:
    """One scenario: bot turns on a timeline, an echo path, the caller, the line."""

    def __init__(self, family: str, index: int, seed: int, rng_salt: int) -> None:
        self.family = family
        self.index = index
        self.rng = np.random.default_rng([seed, rng_salt, index])
        self.meta: dict = {"family": family}
        self.speech: list[tuple[float, float]] = []

    def bot_turns(self, count: int, pause_s: float | None = None) -> np.ndarray:
        rng = self.rng
        clips = [BOT_CLIPS[int(i)] for i in rng.choice(len(BOT_CLIPS), size=count)]
        pieces = [np.zeros(int(_LEAD_S * RATE))]
        self.turns: list[tuple[float, float]] = []
        for i, name in enumerate(clips):
            if i:
                pieces.append(np.zeros(int(_GAP_S * RATE)))
            start = sum(p.size for p in pieces)
            bot = _clip(name)
            if pause_s is not None and i == 0:
                first = int(rng.uniform(0.3, 0.6) * RATE)
                bot = np.concatenate([bot[:first], np.zeros(int(pause_s * RATE)), bot[first:]])
                self.meta["pause_at_s"] = round((start + first) / RATE, 3)
                self.meta["pause_s"] = round(pause_s, 3)
            pieces.append(bot)
            self.turns.append((start / RATE, (start + bot.size) / RATE))
        pieces.append(np.zeros(int(_TRAIL_S * RATE)))
        self.meta["bot_turns"] = clips
        return np.concatenate(pieces)

    def add_caller(
        self, near: np.ndarray, clip: str, level_dbfs: float, onset_s: float, label_from_s=None
    ) -> None:
        caller = telephone(scale_to_dbfs(_clip(clip), level_dbfs))
        start = int(onset_s * RATE)
        end = min(near.size, start + caller.size)
        near[start:end] += caller[: end - start]
        lo, hi = _voiced_span(caller[: end - start])
        span_start = onset_s + lo if label_from_s is None else max(onset_s + lo, label_from_s)
        self.speech.append((round(span_start, 3), round(onset_s + hi, 3)))
        self.meta.setdefault("callers", []).append(
            {"voice": clip, "dbfs": round(level_dbfs, 1), "onset_s": round(onset_s, 3)}
        )

    def barge_in_onset(self, turn: int, after_s: float = 0.6) -> float:
        start, end = self.turns[turn]
        latest = max(after_s + 0.1, min(3.0, end - start - 0.5))
        return start + float(self.rng.uniform(after_s, latest))

    def done(self, far: np.ndarray, near: np.ndarray, reach_s: float, mu_hops: int = 1) -> Scenario:
        for _ in range(mu_hops):
            near = _mu_law(near)
        self.meta["echo_reach_s"] = round(reach_s, 3)
        name = f"{self.family}{self.index:02d}"
        return Scenario(name, far, near, RATE, self.speech, self.meta)


def _spread(index: int, count: int, lo: float, hi: float) -> float:
    return float(np.interp(index, [0, max(1, count - 1)], [lo, hi]))


def _noise(b: _Builder, n: int) -> np.ndarray:
    noise_dbfs = None if b.index % 4 == 0 else float(b.rng.uniform(*NOISE_DBFS))
    b.meta["noise_dbfs"] = None if noise_dbfs is None else round(noise_dbfs, 1)
    return line_noise(n, noise_dbfs, b.rng)


def _maybe_barge_in(b: _Builder, near: np.ndarray, turn: int | None = None, after_s=0.6) -> None:
    if b.index % 3 == 0:
        return  # one in three is echo only
    turn = int(b.rng.integers(0, len(b.turns))) if turn is None else turn
    voice = CALLER_CLIPS[b.index % len(CALLER_CLIPS)]
    b.add_caller(near, voice, float(b.rng.uniform(*CALLER_DBFS)), b.barge_in_onset(turn, after_s))


def long_delay(index: int, count: int, seed: int) -> Scenario:
    b = _Builder("long_delay", index, seed, 2_001)
    far = b.bot_turns(1 + index % 2)
    delay_ms = _spread(index, count, 250, 600)
    erl_db = float(b.rng.uniform(6, 30))
    b.meta.update(delay_ms=round(delay_ms, 1), erl_db=round(erl_db, 1))
    near = _echo(_mu_law(far), delay_ms, erl_db, None) + _noise(b, far.size)
    _maybe_barge_in(b, near, after_s=0.6 + delay_ms / 1000)
    return b.done(far, near, reach_s=delay_ms / 1000 + 0.1)


def speakerphone(index: int, count: int, seed: int) -> Scenario:
    b = _Builder("speakerphone", index, seed, 2_002)
    far = b.bot_turns(1 + index % 2)
    delay_ms = float(b.rng.uniform(20, 250))
    erl_db = _spread(index, count, -3, 6)
    tail_s = float(b.rng.uniform(0.15, 0.4))
    b.meta.update(delay_ms=round(delay_ms, 1), erl_db=round(erl_db, 1), rt60_s=round(tail_s, 3))
    ir = reverb_path(tail_s, b.rng)
    near = _echo(_mu_law(far), delay_ms, erl_db, ir) + _noise(b, far.size)
    _maybe_barge_in(b, near)
    return b.done(far, near, reach_s=(delay_ms / 1000) + tail_s * 0.5 + 0.1)


def ulaw(index: int, count: int, seed: int) -> Scenario:
    b = _Builder("ulaw", index, seed, 2_003)
    far = b.bot_turns(1 + index % 2)
    delay_ms = _spread(index, count, 20, 250)
    erl_db = float(b.rng.uniform(6, 20))
    knee = float(b.rng.uniform(-20, -12))
    b.meta.update(delay_ms=round(delay_ms, 1), erl_db=round(erl_db, 1), clip_knee_dbfs=knee)
    heard = _mu_law(_mu_law(far))
    at_handset = _echo(heard, delay_ms, erl_db, None)
    _maybe_barge_in(b, at_handset)
    near = _soft_clip(at_handset, knee) + _noise(b, far.size)
    return b.done(far, near, reach_s=delay_ms / 1000 + 0.1, mu_hops=2)


def delay_step(index: int, count: int, seed: int) -> Scenario:
    b = _Builder("delay_step", index, seed, 2_004)
    far = b.bot_turns(1)
    turn_start, turn_end = b.turns[0]
    before_ms = float(b.rng.uniform(40, 250))
    step_ms = _spread(index, count, 40, 200) * (1 if index % 2 else -1)
    after_ms = before_ms + step_ms
    if after_ms < 20:
        after_ms = before_ms + abs(step_ms)
    at_s = turn_start + float(b.rng.uniform(1.0, max(1.1, (turn_end - turn_start) * 0.5)))
    erl_db = float(b.rng.uniform(6, 24))
    b.meta.update(
        delay_ms=round(before_ms, 1), delay_after_ms=round(after_ms, 1), step_at_s=round(at_s, 3),
        erl_db=round(erl_db, 1),
    )  # fmt: skip
    heard = _mu_law(far)
    first, second = _echo(heard, before_ms, erl_db, None), _echo(heard, after_ms, erl_db, None)
    cut = int(at_s * RATE)
    near = np.concatenate([first[:cut], second[cut:]]) + _noise(b, far.size)
    if index % 3:
        onset = at_s + float(b.rng.uniform(0.4, max(0.5, turn_end - at_s - 0.6)))
        voice = CALLER_CLIPS[index % len(CALLER_CLIPS)]
        b.add_caller(near, voice, float(b.rng.uniform(*CALLER_DBFS)), onset)
    return b.done(far, near, reach_s=max(before_ms, after_ms) / 1000 + 0.1)


def noisy(index: int, count: int, seed: int) -> Scenario:
    b = _Builder("noisy", index, seed, 2_005)
    far = b.bot_turns(1 + index % 2)
    delay_ms = _spread(index, count, 20, 250)
    erl_db = float(b.rng.uniform(6, 24))
    snr_db = float(b.rng.uniform(10, 20))
    kind = "babble" if index % 2 else "stationary"
    caller_dbfs = float(b.rng.uniform(*CALLER_DBFS))
    if kind == "babble":
        noise = _babble(far.size, b.rng)
    else:
        noise = telephone(b.rng.standard_normal(far.size))
    noise = noise * (32768 * 10 ** ((caller_dbfs - snr_db) / 20) / np.sqrt(np.mean(noise**2)))
    b.meta.update(
        delay_ms=round(delay_ms, 1), erl_db=round(erl_db, 1), noise=kind, snr_db=round(snr_db, 1)
    )
    near = _echo(_mu_law(far), delay_ms, erl_db, None) + noise
    if index % 3:
        turn = int(b.rng.integers(0, len(b.turns)))
        voice = CALLER_CLIPS[index % len(CALLER_CLIPS)]
        b.add_caller(near, voice, caller_dbfs, b.barge_in_onset(turn))
    return b.done(far, near, reach_s=delay_ms / 1000 + 0.1)


def quiet_barge(index: int, count: int, seed: int) -> Scenario:
    b = _Builder("quiet_barge", index, seed, 2_006)
    far = b.bot_turns(1)
    delay_ms = float(b.rng.uniform(20, 250))
    erl_db = float(b.rng.uniform(0, 6))  # a loud echo: the caller is quiet next to it
    noise_dbfs = float(b.rng.uniform(-70, -60))  # yet well above the line's noise
    b.meta.update(delay_ms=round(delay_ms, 1), erl_db=round(erl_db, 1), noise_dbfs=noise_dbfs)
    echo = _echo(_mu_law(far), delay_ms, erl_db, None)
    near = echo + line_noise(far.size, noise_dbfs, b.rng)
    below_db = _spread(index, count, 10, 18)
    level = _dbfs(echo) - below_db
    b.meta["below_echo_db"] = round(below_db, 1)
    start, end = b.turns[0]
    if index % 2:  # a backchannel or two, then nothing
        clips = [BACKCHANNEL_CLIPS[(index + k) % len(BACKCHANNEL_CLIPS)] for k in range(2)]
        onset = start + float(b.rng.uniform(0.8, 1.4))
        for clip in clips[: 1 + index % 4 // 2]:
            if onset + 1.0 > end:
                break
            b.add_caller(near, clip, level, onset)
            onset += float(b.rng.uniform(1.4, 2.0))
    else:
        voice = CALLER_CLIPS[index % len(CALLER_CLIPS)]
        b.add_caller(near, voice, level, b.barge_in_onset(0))
    return b.done(far, near, reach_s=delay_ms / 1000 + 0.1)


def double_start(index: int, count: int, seed: int) -> Scenario:
    b = _Builder("double_start", index, seed, 2_007)
    far = b.bot_turns(1 + index % 2)
    delay_ms = _spread(index, count, 20, 250)
    erl_db = float(b.rng.uniform(6, 30))
    b.meta.update(delay_ms=round(delay_ms, 1), erl_db=round(erl_db, 1))
    near = _echo(_mu_law(far), delay_ms, erl_db, None) + _noise(b, far.size)
    if index % 3:
        turn = int(b.rng.integers(0, len(b.turns)))
        turn_start = b.turns[turn][0]
        voice = ("caller_order_status.wav", "bargein_address.wav", "bargein_hold_on.wav")[index % 3]
        onset = turn_start - float(b.rng.uniform(0.2, 0.4 if turn == 0 else 1.0))
        b.add_caller(
            near, voice, float(b.rng.uniform(*CALLER_DBFS)), onset, label_from_s=turn_start + 0.02
        )
    return b.done(far, near, reach_s=delay_ms / 1000 + 0.1)


def pause_resume(index: int, count: int, seed: int) -> Scenario:
    b = _Builder("pause_resume", index, seed, 2_008)
    pause_s = float(b.rng.uniform(0.3, 0.8))
    far = b.bot_turns(1, pause_s=pause_s)
    delay_ms = _spread(index, count, 20, 400)
    erl_db = float(b.rng.uniform(3, 20))
    b.meta.update(delay_ms=round(delay_ms, 1), erl_db=round(erl_db, 1))
    echo = _echo(_mu_law(far), delay_ms, erl_db, None)
    onset_s = b.meta["pause_at_s"] + pause_s  # the echo appears as the phrase resumes
    echo[: int(onset_s * RATE)] = 0.0
    b.meta["echo_onset_s"] = round(onset_s, 3)
    near = echo + _noise(b, far.size)
    if index % 3:
        end = b.turns[0][1]
        earliest = onset_s + delay_ms / 1000 + 0.6
        if earliest < end - 0.5:
            voice = CALLER_CLIPS[index % len(CALLER_CLIPS)]
            onset = float(b.rng.uniform(earliest, end - 0.5))
            b.add_caller(near, voice, float(b.rng.uniform(*CALLER_DBFS)), onset)
    return b.done(far, near, reach_s=delay_ms / 1000 + 0.1)


FAMILIES: dict[str, Callable[[int, int, int], Scenario]] = {
    "long_delay": long_delay,
    "speakerphone": speakerphone,
    "ulaw": ulaw,
    "delay_step": delay_step,
    "noisy": noisy,
    "quiet_barge": quiet_barge,
    "double_start": double_start,
    "pause_resume": pause_resume,
}
