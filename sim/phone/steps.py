"""The call script: what the simulated caller does, in order."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Say:
    """Stream a WAV file as real-time 20 ms frames (resampled to 8 kHz)."""

    path: str | Path


@dataclass(frozen=True)
class Silence:
    """Keep the line open with silent media frames, as a real phone line does."""

    seconds: float


@dataclass(frozen=True)
class Dtmf:
    """Press keys: one provider dtmf event per digit, silence media in between."""

    digits: str
    gap_s: float = 0.3


@dataclass(frozen=True)
class Hangup:
    """Send the provider's stop event and close the socket.

    With ``after_bot_audio_s`` the caller first waits (sending silence) until the bot
    has sent that much audio in the current turn, to hang up in the middle of a reply;
    ``timeout_s`` bounds that wait so a silent bot cannot hang the test.
    """

    after_bot_audio_s: float | None = None
    timeout_s: float = 30.0


@dataclass(frozen=True)
class EchoPath:
    """Speakerphone echo: played-out bot audio leaks back, delayed and attenuated."""

    delay_s: float = 0.12
    gain_db: float = -12.0

    @property
    def gain(self) -> float:
        return float(10 ** (self.gain_db / 20))


Step = Say | Silence | Dtmf | Hangup
