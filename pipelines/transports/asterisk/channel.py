"""What the bot knows of Asterisk's side of one chan_websocket call, in one place.

The serializer updates it from Asterisk's events; the output transport asks it before and
after each write; the call control uses it to end the media leg. Three things live here:

- **Flow control.** Asterisk queues what the bot sends and plays one frame per 20 ms; at
  900 queued frames it sends MEDIA_XOFF, below 800 MEDIA_XON, and at 1,000 it ignores
  whole messages. The bot writes at real time, so the queue stays short, but a write
  still waits while XOFF is in effect.
- **Played position.** After each chunk the bot sends `MARK_MEDIA <id>`; Asterisk answers
  MEDIA_MARK_PROCESSED when playout reaches it. So at any moment the bot knows how much of
  the current utterance the caller has really heard — the truncation point of a barge-in.
  FLUSH_MEDIA drops queued marks unanswered (Asterisk never reports them), so a flush ends
  the utterance's accounting.
- **Queue drained.** `REPORT_QUEUE_DRAINED` asks for one QUEUE_DRAINED when the queue is
  next empty: the bot's last audio has played, and only then does it send HANGUP.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from loguru import logger

from pipelines.transports.asterisk.codecs import LineCodec
from pipelines.transports.asterisk.control import ControlFormat, MediaStart, render_command

Send = Callable[[str | bytes], Awaitable[None]]


class PlayedAudio:
    """How much of the current bot utterance Asterisk has played, from answered marks."""

    def __init__(self) -> None:
        self._seq = 0
        self._sent_s = 0.0  # audio sent in the current utterance
        self._pending: dict[str, float] = {}  # mark id → utterance time at that mark
        self.played_s = 0.0

    @property
    def sent_s(self) -> float:
        return self._sent_s

    def wrote(self, duration_s: float) -> str:
        """A chunk went out; the id of the mark that follows it."""
        self._seq += 1
        self._sent_s += duration_s
        mark = f"m{self._seq}"
        self._pending[mark] = self._sent_s
        return mark

    def reached(self, mark: str) -> bool:
        """Asterisk played up to ``mark``; False for an id the bot never sent (or flushed)."""
        position = self._pending.pop(mark, None)
        if position is None:
            return False
        self.played_s = max(self.played_s, position)
        return True

    def new_utterance(self) -> float:
        """Start counting afresh (after a flush or once the bot stopped speaking); returns what
        the finished utterance had played."""
        played = self.played_s
        self._sent_s, self.played_s = 0.0, 0.0
        self._pending.clear()
        return played


class AsteriskChannel:
    def __init__(self, media: MediaStart, codec: LineCodec) -> None:
        self.media = media
        self.codec = codec
        self.format: ControlFormat = media.control_format
        self.played = PlayedAudio()
        self._flow_open = asyncio.Event()
        self._flow_open.set()
        self._drained = asyncio.Event()
        self._send: Send | None = None
        self.last_barge_in_played_s: float | None = None

    def bind(self, send: Send) -> None:
        """The transport's socket; set once the transport exists."""
        self._send = send

    async def command(self, name: str, correlation_id: str | None = None) -> None:
        if self._send is None:
            raise RuntimeError("channel not bound to a socket")
        await self._send(render_command(name, self.format, correlation_id))

    # -- events from Asterisk (the serializer) ----------------------------------------

    def xoff(self) -> None:
        # Never expected: the bot writes at real time, far below 900 queued frames.
        logger.warning(f"asterisk {self.media.channel_id}: MEDIA_XOFF, holding audio until XON")
        self._flow_open.clear()

    def xon(self) -> None:
        self._flow_open.set()

    def queue_drained(self) -> None:
        self._drained.set()

    def mark_processed(self, mark: str) -> None:
        self.played.reached(mark)

    # -- the bot's writes (the output transport) ---------------------------------------

    async def ready_to_write(self) -> None:
        """Waits while Asterisk's queue is over its XOFF level."""
        if not self._flow_open.is_set():
            await self._flow_open.wait()

    async def written(self, wire_bytes: int) -> None:
        await self.command("MARK_MEDIA", self.played.wrote(self.codec.duration_s(wire_bytes)))

    def interrupted(self) -> None:
        """The caller barged in: FLUSH_MEDIA goes out and queued marks die with it."""
        sent = self.played.sent_s
        played = self.played.new_utterance()
        self.last_barge_in_played_s = played
        if sent > 0:
            logger.info(
                f"asterisk {self.media.channel_id}: barge-in after {played:.2f}s of "
                f"{sent:.2f}s sent had played (MEDIA_MARK_PROCESSED)"
            )

    def utterance_ended(self) -> None:
        self.played.new_utterance()

    # -- ending the media leg (the call control) ----------------------------------------

    async def hang_up_after_playout(self, timeout_s: float) -> float:
        """REPORT_QUEUE_DRAINED → QUEUE_DRAINED (everything sent has played) → HANGUP.
        Returns the seconds waited; HANGUP goes out at the timeout if no answer came
        (releases before 20.17 / 21.12 / 22.7 / 23.1 could miss the request)."""
        started = time.monotonic()
        self._drained.clear()
        await self.command("REPORT_QUEUE_DRAINED")
        try:
            await asyncio.wait_for(self._drained.wait(), timeout_s)
        except TimeoutError:
            logger.warning(
                f"asterisk {self.media.channel_id}: no QUEUE_DRAINED within {timeout_s:g}s; "
                "hanging up anyway"
            )
        await self.command("HANGUP")
        return time.monotonic() - started
