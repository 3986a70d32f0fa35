"""Caller audio that a new Realtime session must hear: what the old session had not yet
committed to a turn, and what arrived while no session was listening. Bounded, newest kept."""

PCM_BYTES_PER_S = 24000 * 2  # 24 kHz 16-bit mono; phone lines send G.711 (8000 bytes/s)


class AudioBacklog:
    def __init__(self, max_s: float, bytes_per_s: int = PCM_BYTES_PER_S):
        self._max = int(max_s * bytes_per_s) // 2 * 2
        self._bytes_per_s = bytes_per_s
        self._uncommitted = bytearray()
        self._held = bytearray()
        self.dropped_s = 0.0

    def sent(self, audio: bytes) -> None:
        """Audio the live session got; kept until the server commits it to a user item."""
        self._uncommitted += audio
        # Trimmed a second of audio at a time, not on every append: once a long silence has
        # filled it, each trim moves the whole buffer (take() keeps only the newest anyway).
        if len(self._uncommitted) > self._max + self._bytes_per_s:
            del self._uncommitted[: len(self._uncommitted) - self._max]

    def committed(self) -> None:
        self._uncommitted.clear()

    def hold(self, audio: bytes) -> None:
        """Audio that arrived while no session was listening."""
        self._held += audio
        excess = max(0, len(self._held) - self._max)
        if excess:
            del self._held[:excess]
            self.dropped_s += excess / self._bytes_per_s

    def take(self) -> bytes:
        """Everything a new session should hear, oldest first, at most the bound."""
        data = bytes(self._uncommitted + self._held)[-self._max :] if self._max else b""
        self._uncommitted.clear()
        self._held.clear()
        return data

    def seconds(self, data: bytes) -> float:
        return len(data) / self._bytes_per_s
