"""A fake LiveKit server at the `livekit.rtc` boundary (see fake_rtc.py)."""

from sim.livekit.fake_rtc import FakeLiveKit, FakeParticipant, RoomState

__all__ = ["FakeLiveKit", "FakeParticipant", "RoomState"]
