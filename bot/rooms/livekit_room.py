"""A call's life in a LiveKit room: whom to greet, whom to hear, when to leave, and that there
is only ever one bot talking.

- Greet when the first human's audio track is subscribed: before that the greeting would be
  spoken to nobody (the "joined but never spoke" reports came from greeting on join).
- Hear that participant only; agents (kind AGENT, agent identities or attributes) are ignored.
- When the last human leaves, wait `leave_grace_s` (a reconnect keeps the call), then leave.
- Another agent already in the room at join: refuse, or with `takeover` evict it first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from loguru import logger
from pydantic import BaseModel, Field

from bot.call.call import Call
from bot.rooms.participants import caller_from_participant, is_agent
from pipelines.transports.livekit import RoomTransport
from processors.participant_audio_filter import ParticipantAudioFilter

Evictor = Callable[[str], Awaitable[None]]


class RoomPolicy(BaseModel):
    leave_grace_s: float = Field(default=5.0, ge=0)
    takeover: bool = False


class RoomSession:
    """Maps the room's events onto `Call.start_greeting()` / `Call.end()`."""

    def __init__(
        self,
        call: Call,
        transport: RoomTransport,
        audio_filter: ParticipantAudioFilter,
        policy: RoomPolicy,
        evict: Evictor | None = None,
    ):
        self._call = call
        self._transport = transport
        self._filter = audio_filter
        self._policy = policy
        self._evict = evict
        self._checked_for_agents = False
        self._leave_task: asyncio.Task | None = None
        self._with_audio: list[str] = []  # humans whose audio is subscribed, in order
        self._human_seen = False
        self.caller_id: str | None = None
        self.refused_by: str | None = None

    def attach(self) -> None:
        t = self._transport
        t.event_handler("on_connected")(self._on_connected)
        t.event_handler("on_participant_connected")(self._on_participant_connected)
        t.event_handler("on_audio_track_subscribed")(self._on_audio_track_subscribed)
        t.event_handler("on_participant_disconnected")(self._on_participant_disconnected)
        t.event_handler("on_disconnected")(self._on_disconnected)

    def _participant(self, identity: str):
        return self._transport.room.remote_participants.get(identity)

    def _humans(self) -> list[str]:
        room = self._transport.room
        return [i for i, p in room.remote_participants.items() if not is_agent(p)]

    async def _on_connected(self, _transport) -> None:
        if self._checked_for_agents:
            return
        self._checked_for_agents = True
        others = [i for i, p in self._transport.room.remote_participants.items() if is_agent(p)]
        if not others:
            return
        if self._policy.takeover and self._evict is not None:
            try:
                for identity in others:
                    logger.warning(f"room: taking over from agent {identity} (--takeover)")
                    await self._evict(identity)
                return
            except Exception as e:
                # Could not remove it: refusing is the only way to never talk over it.
                logger.error(f"room: could not remove agent {identity}: {e}")
        self.refused_by = others[0]
        hint = "" if self._evict is None else " (or start with --takeover to replace it)"
        logger.error(f"room: agent {others[0]} is already in this room; leaving{hint}")
        await self._call.end(f"refused: agent {others[0]} already in the room", cancel=True)

    async def _on_participant_connected(self, _transport, identity: str) -> None:
        participant = self._participant(identity)
        if participant is None:
            return
        if is_agent(participant):
            logger.info(f"room: ignoring agent participant {identity}")
            return
        self._human_seen = True
        if self._leave_task is not None:
            logger.info(f"room: {identity} joined; staying")
            self._leave_task.cancel()
            self._leave_task = None

    async def _on_audio_track_subscribed(self, _transport, identity: str) -> None:
        participant = self._participant(identity)
        if participant is None or is_agent(participant) or self.refused_by:
            return
        if identity not in self._with_audio:
            self._with_audio.append(identity)
        if self.caller_id is None:
            self.caller_id = identity
            self._filter.listen_to(identity)
            caller = caller_from_participant(participant)
            logger.info(
                f"room: caller {identity} (kind {participant.kind}) audio subscribed; greeting"
            )
            await self._call.start_greeting(caller)
        elif self.caller_id not in self._with_audio:
            self._listen_to(identity)

    def _listen_to(self, identity: str | None) -> None:
        logger.info(f"room: now listening to {identity or 'nobody'}")
        self.caller_id = identity
        self._filter.listen_to(identity)

    async def _on_participant_disconnected(self, _transport, identity: str) -> None:
        if identity in self._with_audio:
            self._with_audio.remove(identity)
        humans = [h for h in self._humans() if h != identity]
        if identity == self.caller_id and humans:
            # The caller left but others stay: the call goes on with whoever speaks next.
            self._listen_to(self._with_audio[0] if self._with_audio else "")
        # Someone who came and went without a microphone also empties the room: an agent
        # left alone would keep the room open.
        if humans or not self._human_seen or self._leave_task is not None:
            return
        logger.info(f"room: last human left; leaving in {self._policy.leave_grace_s:g}s")
        self._leave_task = asyncio.create_task(self._leave_after_grace())

    async def _leave_after_grace(self) -> None:
        await asyncio.sleep(self._policy.leave_grace_s)
        await self._call.end("caller left the room", cancel=True)

    async def _on_disconnected(self, _transport) -> None:
        await self._call.end("disconnected from the room", cancel=True)

    def close(self) -> None:
        if self._leave_task is not None:
            self._leave_task.cancel()
