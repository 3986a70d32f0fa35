"""Asterisk lines: chan_websocket (`WS /asterisk`) and AudioSocket (TCP).

One module per part of the wire: `codecs` (formats and frame maths), `control`
(chan_websocket's text/JSON events and commands), `channel` (what the bot knows of
Asterisk's side of a chan_websocket call: flow control, marks, the drained queue),
`serializer` (chan_websocket ↔ Pipecat frames), `audiosocket` (AudioSocket framing and its
serializer), `stream_socket` (an AudioSocket TCP stream as the socket Pipecat's WebSocket
transport reads) and `transport` (the two factories the server calls). Bot audio goes out
through `pipelines/transports/paced_output.py` (at real time, never stale after a barge-in),
which the provider lines share.
"""
