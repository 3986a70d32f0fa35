"""Asterisk and FreePBX: the bot's side of chan_websocket (`WS /asterisk`), AudioSocket (TCP)
and FastAGI (caller details before a call, the hand-off target after it).

`lines.AsteriskLines` puts them on the telephony server; `calls.CallDirectory` is what they
share about each call, keyed by the ids the dialplan knows it by. docs/asterisk.md is the
PBX admin's walk-through.
"""
