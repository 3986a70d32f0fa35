"""The "late echo" scenario family: echo that shows up only after the bot has been talking.

The gate learns an ERL *bound* from how quiet the input is next to the bot's audio, so that a
line with no echo at all stops blocking barge-ins. Input that is quiet while the bot talks and
then carries echo makes that bound wrong by tens of dB. It happens on real calls:

- **start-of-call backlog**: the bot process is busy at call start, so the caller's first
  second or two of (silent) input is judged in a burst against the bot's first words; the
  echo of those words arrives right after (the end-to-end echo test's open defect);
- **speakerphone switched on** mid-phrase, or a phone whose own echo suppressor lets echo
  through only after a while;
- a **pause** in the bot's turn: the first phrase leaves no echo, the echo starts as the
  phrase resumes, and the delay is found mid-phrase.

Every scenario is one bot turn; the echo path is silent until ``echo_onset_s`` into it
(every third scenario: right as the phrase resumes after a 0.3-0.6 s pause). Two in three have
a barge-in at least 0.6 s after the echo began. Delay and ERL span the main set's ranges.
"""

from __future__ import annotations

import numpy as np

from sim.echo.paths import RATE, EchoPathSpec, line_noise, scale_to_dbfs, telephone
from sim.echo.scenarios import (
    AUDIO_DIR,
    BOT_CLIPS,
    CALLER_CLIPS,
    CALLER_DBFS,
    DELAY_MS,
    ERL_DB,
    NOISE_DBFS,
    Scenario,
    _mu_law,
    _voiced_span,
)
from sim.phone.audio import load_wav_8k

_LEAD_S, _TRAIL_S = 0.4, 1.0
ONSET_S = (0.6, 2.0)  # echo starts this far into the bot's turn (mid-phrase)
FIRST_PHRASE_S = (0.3, 0.6)  # pause variant: the bot's phrase before the pause
PAUSE_S = (0.3, 0.6)  # long enough for the bound to decay by 7-12 dB


def make_late_echo_scenario(index: int, count: int, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, 1_000 + index])
    order = np.random.default_rng([seed, 1]).permutation(count)
    delay_ms = float(np.interp(index, [0, max(1, count - 1)], DELAY_MS))
    erl_db = float(np.interp(order[index], [0, max(1, count - 1)], ERL_DB))
    noise_dbfs = None if index % 4 == 0 else float(rng.uniform(*NOISE_DBFS))
    clip = BOT_CLIPS[index % len(BOT_CLIPS)]
    bot = load_wav_8k(AUDIO_DIR / clip).astype(np.float64)

    lead = int(_LEAD_S * RATE)
    pause_s = None
    if index % 3 == 0:  # phrase, pause, phrase resumes with echo
        first = int(rng.uniform(*FIRST_PHRASE_S) * RATE)
        pause_s = float(rng.uniform(*PAUSE_S))
        bot = np.concatenate([bot[:first], np.zeros(int(pause_s * RATE)), bot[first:]])
        onset_s = (first / RATE) + pause_s
    else:
        onset_s = float(rng.uniform(*ONSET_S))
    far = np.concatenate([np.zeros(lead), bot, np.zeros(int(_TRAIL_S * RATE))])
    path = EchoPathSpec(delay_ms=delay_ms, erl_db=erl_db)
    echo = path.apply(_mu_law(far))
    echo[: lead + int(onset_s * RATE)] = 0.0  # no echo on the line before the onset
    near = echo + line_noise(far.size, noise_dbfs, rng)

    speech: list[tuple[float, float]] = []
    meta: dict = {
        "family": "late_echo",
        "delay_ms": round(delay_ms, 1),
        "erl_db": round(erl_db, 1),
        "noise_dbfs": None if noise_dbfs is None else round(noise_dbfs, 1),
        "bot_turns": [clip],
        "echo_onset_s": round(_LEAD_S + onset_s, 3),
        "pause_s": None if pause_s is None else round(pause_s, 3),
    }
    turn_end_s = (lead + bot.size) / RATE
    earliest = _LEAD_S + onset_s + delay_ms / 1000 + 0.6
    if index % 3 != 1 and earliest < turn_end_s - 0.5:  # two in three have a barge-in
        voice = CALLER_CLIPS[index % len(CALLER_CLIPS)]
        level = float(rng.uniform(*CALLER_DBFS))
        caller = telephone(scale_to_dbfs(load_wav_8k(AUDIO_DIR / voice).astype(float), level))
        start_s = float(rng.uniform(earliest, max(earliest, turn_end_s - 0.5)))
        start = int(start_s * RATE)
        end = min(far.size, start + caller.size)
        near[start:end] += caller[: end - start]
        lo, hi = _voiced_span(caller[: end - start])
        speech.append((round(start_s + lo, 3), round(start_s + hi, 3)))
        meta.update(voice=voice, caller_dbfs=round(level, 1), bot_turn=0)
    return Scenario(
        name=f"late{index:02d}", far=far, near=_mu_law(near), rate=RATE, speech=speech, meta=meta
    )
