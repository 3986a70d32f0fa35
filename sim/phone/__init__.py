"""Simulated phone-line caller speaking Twilio/Telnyx/Plivo/Exotel media-stream protocols."""

from sim.phone.caller import PhoneCaller
from sim.phone.result import CallResult, Turn
from sim.phone.steps import Dtmf, EchoPath, Hangup, Say, Silence, Step

__all__ = [
    "CallResult",
    "Dtmf",
    "EchoPath",
    "Hangup",
    "PhoneCaller",
    "Say",
    "Silence",
    "Step",
    "Turn",
]
