"""Simulated Asterisk: places calls to the bot over chan_websocket or AudioSocket, with
FastAGI around them, as Asterisk/FreePBX does. Protocol notes and sources: README.md here."""

from sim.asterisk.agi import AgiChannel, AgiResult, run_fastagi
from sim.asterisk.audiosocket import AudioSocketCall
from sim.asterisk.dialplan import call_with_agi
from sim.asterisk.result import AsteriskCallResult
from sim.asterisk.websocket_channel import AsteriskWebSocketCall

__all__ = [
    "AgiChannel",
    "AgiResult",
    "AsteriskCallResult",
    "AsteriskWebSocketCall",
    "AudioSocketCall",
    "call_with_agi",
    "run_fastagi",
]
