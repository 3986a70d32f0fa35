"""Labelled echo scenarios: the bot's speech through a synthetic echo path, with and without a
caller barging in.

A scenario set is a directory with one JSON per scenario::

    {"far": "s00_far.wav", "near": "s00_near.wav", "rate": 8000,
     "speech": [[1.84, 3.91]], "meta": {...}}

``far`` is what the bot played (the reference), ``near`` what the bot received on the same
timeline (echo + caller + line noise, through G.711 mu-law), ``speech`` the spans of real
caller speech in seconds. WAV paths are relative to the JSON file. ``meta`` says how the
scenario was made (echo delay, ERL, reflections, noise, voice, level, onset).

The set is generated deterministically from a seed, so it is rebuilt at bench time instead of
committed (48 scenarios are ~9 MB of audio).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.echo.paths import RATE, EchoPathSpec, line_noise, scale_to_dbfs, telephone
from sim.phone.audio import load_wav_8k, ulaw_decode, ulaw_encode, write_wav_8k

AUDIO_DIR = Path(__file__).resolve().parent.parent / "audio"
BOT_CLIPS = ("bot_greeting.wav", "bot_reply_1.wav", "bot_reply_2.wav", "bot_reply_3.wav")
CALLER_CLIPS = (
    "caller_order_status.wav",
    "caller_thanks.wav",
    "caller_goodbye.wav",
    "bargein_wait_sorry.wav",
    "bargein_hold_on.wav",
    "bargein_excuse_me.wav",
    "bargein_address.wav",
)
DELAY_MS = (20.0, 250.0)
ERL_DB = (6.0, 30.0)
CALLER_DBFS = (-34.0, -18.0)  # caller speech level on the line (active RMS)
NOISE_DBFS = (-70.0, -48.0)
_LEAD_S, _GAP_S, _TRAIL_S = 0.4, 1.5, 1.0
LATE_ECHO_COUNT = 24  # scenarios of the late-echo family in the project's set


@dataclass
class Scenario:
    name: str
    far: np.ndarray  # int16 @ rate
    near: np.ndarray  # int16 @ rate
    rate: int
    speech: list[tuple[float, float]]
    meta: dict


def _voiced_span(samples: np.ndarray, frame: int = 80) -> tuple[float, float]:
    """First and last 10 ms frame within 35 dB of the clip's loudest one, in seconds."""
    usable = samples[: samples.size // frame * frame].astype(np.float64).reshape(-1, frame)
    power = np.mean(usable**2, axis=1)
    voiced = np.flatnonzero(power > power.max() * 10 ** (-3.5))
    return voiced[0] * frame / RATE, (voiced[-1] + 1) * frame / RATE


def _mu_law(signal: np.ndarray) -> np.ndarray:
    clipped = np.clip(np.round(signal), -32768, 32767).astype(np.int16)
    return ulaw_decode(ulaw_encode(clipped))


def make_scenario(index: int, count: int, seed: int) -> Scenario:
    rng = np.random.default_rng([seed, index])
    # Stratified: delays and ERLs each cover their whole range once across the set.
    order = np.random.default_rng(seed).permutation(count)
    delay_ms = float(np.interp(index, [0, count - 1], DELAY_MS))
    erl_db = float(np.interp(order[index], [0, count - 1], ERL_DB))
    reflections = tuple(
        (float(rng.uniform(0.5, 3.0)), float(rng.uniform(0.1, 0.4)))
        for _ in range(int(rng.integers(0, 3)))
    )
    noise_dbfs = None if index % 4 == 0 else float(rng.uniform(*NOISE_DBFS))

    turns = [BOT_CLIPS[int(i)] for i in rng.choice(len(BOT_CLIPS), size=1 + index % 2)]
    pieces, turn_starts = [np.zeros(int(_LEAD_S * RATE))], []
    for i, clip in enumerate(turns):
        if i:
            pieces.append(np.zeros(int(_GAP_S * RATE)))
        turn_starts.append(sum(p.size for p in pieces) / RATE)
        pieces.append(load_wav_8k(AUDIO_DIR / clip).astype(np.float64))
    pieces.append(np.zeros(int(_TRAIL_S * RATE)))
    far = np.concatenate(pieces)
    heard = _mu_law(far)  # the bot's audio reaches the phone as G.711
    path = EchoPathSpec(delay_ms=delay_ms, erl_db=erl_db, reflections=reflections)
    near = path.apply(heard) + line_noise(far.size, noise_dbfs, rng)

    speech: list[tuple[float, float]] = []
    meta: dict = {
        "delay_ms": round(delay_ms, 1),
        "erl_db": round(erl_db, 1),
        "reflections": [[round(d, 2), round(g, 2)] for d, g in reflections],
        "noise_dbfs": None if noise_dbfs is None else round(noise_dbfs, 1),
        "bot_turns": turns,
    }
    if index % 3 != 0:  # two in three scenarios have a barge-in
        voice = CALLER_CLIPS[index % len(CALLER_CLIPS)]
        level = float(rng.uniform(*CALLER_DBFS))
        caller = telephone(scale_to_dbfs(load_wav_8k(AUDIO_DIR / voice).astype(float), level))
        turn = int(rng.integers(0, len(turns)))
        turn_len = load_wav_8k(AUDIO_DIR / turns[turn]).size / RATE
        onset = turn_starts[turn] + float(rng.uniform(0.6, max(0.7, min(3.0, turn_len - 0.5))))
        start = int(onset * RATE)
        end = min(far.size, start + caller.size)
        near[start:end] += caller[: end - start]
        lo, hi = _voiced_span(caller[: end - start])
        speech.append((round(onset + lo, 3), round(onset + hi, 3)))
        meta.update(voice=voice, caller_dbfs=round(level, 1), bot_turn=turn)
    return Scenario(
        name=f"s{index:02d}", far=far, near=_mu_law(near), rate=RATE, speech=speech, meta=meta
    )


def build_scenarios(
    out_dir: str | Path,
    count: int = 48,
    seed: int = 7,
    late_echo: int = LATE_ECHO_COUNT,
    per_family: int = 0,
    families: tuple[str, ...] | None = None,
) -> list[Path]:
    """Write ``count`` scenarios plus ``late_echo`` of the late-echo family
    (``sim/echo/late_echo.py``) and ``per_family`` of each family in ``sim/echo/families.py``
    (all of them, or those named), JSON + two WAVs each, into ``out_dir``; same seed, same set.
    """
    from sim.echo.families import FAMILIES  # they build on this module
    from sim.echo.late_echo import make_late_echo_scenario

    names = tuple(FAMILIES) if families is None else families
    unknown = [name for name in names if name not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown family {unknown[0]!r}; families: {', '.join(FAMILIES)}")

    if count and count < 2:
        raise ValueError("count must be at least 2")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    scenarios = (make_scenario(i, count, seed) for i in range(count))
    late = (make_late_echo_scenario(i, late_echo, seed) for i in range(late_echo))
    others = (FAMILIES[name](i, per_family, seed) for name in names for i in range(per_family))
    for scenario in (*scenarios, *late, *others):
        far_name, near_name = f"{scenario.name}_far.wav", f"{scenario.name}_near.wav"
        write_wav_8k(out / far_name, np.clip(np.round(scenario.far), -32768, 32767))
        write_wav_8k(out / near_name, scenario.near)
        spec = {
            "far": far_name,
            "near": near_name,
            "rate": scenario.rate,
            "speech": [list(span) for span in scenario.speech],
            "meta": scenario.meta,
        }
        path = out / f"{scenario.name}.json"
        path.write_text(json.dumps(spec, indent=1) + "\n")
        written.append(path)
    return written


def load_scenario(path: str | Path) -> Scenario:
    """Read one scenario JSON (and its WAVs).

    Raises:
        ValueError: a missing key, a wrong rate, or ``speech`` that is not ``[[start, end], ...]``.
    """
    path = Path(path)
    spec = json.loads(path.read_text())
    missing = [key for key in ("far", "near", "rate", "speech") if key not in spec]
    if missing:
        raise ValueError(f"{path.name}: missing key(s) {', '.join(missing)}")
    if spec["rate"] != RATE:
        raise ValueError(f"{path.name}: rate must be {RATE}, got {spec['rate']!r}")
    far = load_wav_8k(path.parent / spec["far"])
    near = load_wav_8k(path.parent / spec["near"])
    if far.size != near.size:
        raise ValueError(f"{path.name}: far and near differ in length")
    try:
        speech = [(float(s), float(e)) for s, e in spec["speech"]]
    except (TypeError, ValueError):
        raise ValueError(f"{path.name}: speech must be a list of [start_s, end_s]") from None
    return Scenario(path.stem, far, near, RATE, speech, spec.get("meta", {}))


def load_scenarios(directory: str | Path) -> list[Scenario]:
    paths = sorted(Path(directory).glob("*.json"))
    if not paths:
        raise ValueError(f"{directory}: no scenario JSON files")
    return [load_scenario(p) for p in paths]
