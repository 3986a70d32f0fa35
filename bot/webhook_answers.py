"""What `POST /` answers each provider's incoming-call webhook: connect the call's audio
to our `/ws` media-stream endpoint, carrying the caller's details along."""

from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from fastapi import Request


def stream_url(
    request: Request, public_url: str | None, query: dict[str, str] | None = None
) -> str:
    """The wss:// URL the provider should open. PUBLIC_URL wins (providers reach us through
    a tunnel or load balancer whose name the request may not carry)."""
    if public_url:
        base = public_url.rstrip("/").replace("https://", "wss://").replace("http://", "ws://")
    else:
        forwarded = request.headers.get("x-forwarded-proto", request.url.scheme)
        scheme = "wss" if forwarded in ("https", "wss") else "ws"
        base = f"{scheme}://{request.headers.get('host', request.url.netloc)}"
    url = f"{base}/ws"
    return f"{url}?{urlencode(query)}" if query else url


def twilio_twiml(url: str, parameters: dict[str, str]) -> str:
    # Twilio hands <Parameter>s to the stream's `start.customParameters`; that is how the
    # caller's number and name reach the bot, since the media stream itself has neither.
    params = "".join(
        f"\n      <Parameter name={quoteattr(k)} value={quoteattr(v)} />"
        for k, v in parameters.items()
        if v
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n  <Connect>\n'
        f"    <Stream url={quoteattr(url)}>{params}\n    </Stream>\n  </Connect>\n</Response>"
    )


def telnyx_texml(url: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n  <Connect>\n'
        f'    <Stream url={quoteattr(url)} bidirectionalMode="rtp" />\n  </Connect>\n</Response>'
    )


def plivo_xml(url: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n'
        '  <Stream bidirectional="true" keepCallAlive="true" '
        f'contentType="audio/x-mulaw;rate=8000">{escape(url)}</Stream>\n</Response>'
    )
