"""Hypothesis strategies for hostile Twilio media-stream traffic: malformed, reordered,
oversize, wrong-codec and truncated messages, built around valid ones."""

import base64
import json
import uuid

from hypothesis import strategies as st

OVERSIZE_LIMIT = 4096  # the fuzzed server's MAX_MESSAGE_BYTES


def connected() -> dict:
    return {"event": "connected", "protocol": "Call", "version": "1.0.0"}


def start(call_sid: str, encoding: str = "audio/x-mulaw", rate: object = 8000, **extra) -> dict:
    sid = "MZ" + uuid.uuid4().hex
    body = {
        "accountSid": "AC1",
        "streamSid": sid,
        "callSid": call_sid,
        "tracks": ["inbound"],
        "mediaFormat": {"encoding": encoding, "sampleRate": rate, "channels": 1},
        "customParameters": {"from_number": "+15551230000"},
    }
    body.update(extra)
    return {"event": "start", "sequenceNumber": "1", "streamSid": sid, "start": body}


def media(payload: object) -> dict:
    return {"event": "media", "streamSid": "MZ1", "media": {"track": "inbound", "payload": payload}}


VALID_PAYLOAD = base64.b64encode(b"\xff" * 160).decode()

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def truncated(draw, message: dict) -> str:
    text = json.dumps(message)
    return text[: draw(st.integers(0, len(text) - 1))]


def media_frames() -> st.SearchStrategy:
    """One message after the handshake: text (str) or a binary frame (bytes)."""
    good = st.just(json.dumps(media(VALID_PAYLOAD)))
    return st.one_of(
        good,
        st.just(json.dumps({"event": "dtmf", "streamSid": "MZ1", "dtmf": {"digit": "5"}})),
        st.just(json.dumps({"event": "mark", "streamSid": "MZ1", "mark": {"name": "m1"}})),
        st.just(json.dumps({"event": "stop", "streamSid": "MZ1"})),
        st.text(max_size=40),
        st.binary(max_size=40),
        json_value.map(json.dumps),
        st.dictionaries(st.sampled_from(["event", "media", "x"]), json_value).map(json.dumps),
        st.text(max_size=12).map(lambda e: json.dumps({"event": e})),
        json_value.map(lambda p: json.dumps(media(p))),
        st.sampled_from(["%%%", "abc", "====", "\u00e9t\u00e9"]).map(
            lambda p: json.dumps(media(p))
        ),
        truncated(media(VALID_PAYLOAD)),
        st.integers(OVERSIZE_LIMIT, 6 * OVERSIZE_LIMIT).map(
            lambda n: json.dumps(media("A" * (n - n % 4)))
        ),
    )


@st.composite
def handshakes(draw) -> tuple[str | None, list[str | bytes]]:
    """(the callSid a call would get, the handshake messages) — valid or not."""
    call_sid = "CA" + uuid.uuid4().hex
    kind = draw(
        st.sampled_from(
            [
                # Weighted towards handshakes that start a call, so the fuzz reaches the
                # pipeline's own parsing, not only the door.
                "valid",
                "valid",
                "valid",
                "reordered",
                "start only",
                "none",
                "wrong codec",
                "wrong rate",
                "no call sid",
                "start not an object",
                "telnyx start",
                "junk",
                "truncated",
                "binary",
                "oversize",
            ]
        )
    )
    if kind == "valid":
        return call_sid, [json.dumps(connected()), json.dumps(start(call_sid))]
    if kind == "reordered":
        return call_sid, [json.dumps(start(call_sid)), json.dumps(connected())]
    if kind == "start only":
        return call_sid, [json.dumps(start(call_sid))]
    if kind == "none":
        return None, []
    if kind == "wrong codec":
        codec = draw(st.sampled_from(["audio/x-alaw", "audio/L16", "opus", ""]))
        return call_sid, [json.dumps(connected()), json.dumps(start(call_sid, encoding=codec))]
    if kind == "wrong rate":
        rate = draw(st.sampled_from([16000, "16000", 0, -1, None, "8k"]))
        return call_sid, [json.dumps(connected()), json.dumps(start(call_sid, rate=rate))]
    if kind == "no call sid":
        bad = draw(st.sampled_from([None, "", 5, ["CA1"], "x" * 300]))
        return None, [json.dumps(connected()), json.dumps(start(call_sid, callSid=bad))]
    if kind == "start not an object":
        value = draw(json_value.filter(lambda v: not isinstance(v, dict)))
        message = {"event": "start", "streamSid": "MZ1", "start": value}
        return None, [json.dumps(connected()), json.dumps(message)]
    if kind == "telnyx start":
        message = {"event": "start", "stream_id": "s1", "start": {"call_control_id": call_sid}}
        return None, [json.dumps(message), json.dumps(connected())]
    if kind == "junk":
        return None, [draw(st.text(max_size=30)), draw(st.text(max_size=30))]
    if kind == "truncated":
        return None, [json.dumps(connected()), draw(truncated(start(call_sid)))]
    if kind == "binary":
        return None, [draw(st.binary(min_size=1, max_size=30)), json.dumps(start(call_sid))]
    padding = "x" * draw(st.integers(OVERSIZE_LIMIT, 3 * OVERSIZE_LIMIT))
    return None, [json.dumps(connected()), json.dumps(start(call_sid, pad=padding))]


@st.composite
def connection_scripts(draw) -> tuple[str | None, list[str | bytes]]:
    call_sid, messages = draw(handshakes())
    return call_sid, messages + draw(st.lists(media_frames(), max_size=4))
