"""The peer on the echo bench: an established echo canceller followed by a VAD.

WebRTC's audio-processing module (AEC3, through the ``aec-audio-processing`` binding; noise
suppression, gain control and its own VAD off) cancels the bot's echo from the input, 10 ms
at a time, with the bot's audio as the render stream and no delay hint (AEC3 finds the delay
itself). Pipecat's Silero VAD (its default parameters: confidence 0.7, start 0.2 s, stop
0.2 s) then listens to what is left; a 20 ms input frame "passes" while the VAD says the
caller is speaking. That is the pipeline a Pipecat bot gets from an off-the-shelf canceller
plus local VAD-driven barge-in, scored exactly as the gate is (``bench/echo_metrics.py``).

The binding is built from source (a few minutes), so it lives in the ``bench`` dependency
group, installed by ``make bench-echo``/``make bench`` and not by ``make install``:
:func:`unavailable` says why the peer cannot run where the group is missing.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np

from bench.echo_metrics import GateRun

PEER_NAME = "webrtc_aec3_silero"
_AEC_BLOCK = 80  # 10 ms at 8 kHz: the APM's frame
_FRAME = 160


def unavailable() -> str | None:
    """``None`` when the peer can run here, else the reason it cannot."""
    try:
        import aec_audio_processing  # noqa: F401
    except ImportError as exc:
        return (
            f"WebRTC APM binding not installed ({exc}); `uv sync --group bench` "
            "(make bench-echo) installs it"
        )
    try:
        from pipecat.audio.vad.silero import SileroVADAnalyzer  # noqa: F401
    except ImportError as exc:
        return f"Silero VAD not importable ({exc})"
    return None


def cancel_echo(far: np.ndarray, near: np.ndarray) -> np.ndarray:
    """``near`` with the echo of ``far`` removed by WebRTC AEC3 (both int16-range, 8 kHz)."""
    from aec_audio_processing import AudioProcessor

    apm = AudioProcessor(
        enable_aec=True, enable_ns=False, ns_level=0, enable_agc=False, enable_vad=False
    )
    apm.set_stream_format(8000, 1, 8000, 1)
    apm.set_reverse_stream_format(8000, 1)
    far16 = np.clip(np.round(far), -32768, 32767).astype("<i2")
    near16 = np.clip(np.round(near), -32768, 32767).astype("<i2")
    out = np.zeros(near16.size // _AEC_BLOCK * _AEC_BLOCK, dtype="<i2")
    for lo in range(0, out.size, _AEC_BLOCK):
        hi = lo + _AEC_BLOCK
        apm.process_reverse_stream(far16[lo:hi].tobytes())
        out[lo:hi] = np.frombuffer(apm.process_stream(near16[lo:hi].tobytes()), dtype="<i2")
    return out


def vad_speaking(audio: np.ndarray) -> np.ndarray:
    """Per 20 ms frame: Silero (through Pipecat's analyzer) says the caller is speaking at
    the frame's end."""
    from pipecat.audio.vad.silero import SileroVADAnalyzer
    from pipecat.audio.vad.vad_analyzer import VADState

    analyzer = SileroVADAnalyzer(sample_rate=8000)
    analyzer.set_sample_rate(8000)
    chunk = analyzer.num_frames_required()

    async def states() -> list[bool]:
        return [
            await analyzer.analyze_audio(audio[lo : lo + chunk].tobytes()) == VADState.SPEAKING
            for lo in range(0, audio.size - chunk + 1, chunk)
        ]

    speaking = asyncio.run(states())
    frames = audio.size // _FRAME
    out = np.zeros(frames, dtype=bool)
    for k in range(frames):
        done = ((k + 1) * _FRAME) // chunk  # chunks complete by this frame's end
        out[k] = bool(speaking[done - 1]) if done else False
    return out


def run_peer(far: np.ndarray, near: np.ndarray) -> GateRun:
    """The peer over one scenario, as a gate run (frame passes while the VAD says speech)."""
    started = time.perf_counter()
    passed = vad_speaking(cancel_echo(far, near))
    elapsed = time.perf_counter() - started
    frames = passed.size
    starts = int(np.count_nonzero(passed[1:] & ~passed[:-1]) + (1 if passed[:1].any() else 0))
    stops = int(np.count_nonzero(~passed[1:] & passed[:-1]))
    cost = [elapsed / max(1, frames)] * frames
    return GateRun(passed, np.arange(frames), starts, starts + stops, cost)
