"""What `POST /` answers each provider's incoming-call webhook: connect the call's audio
to our `/ws` media-stream endpoint, carrying the caller's details along."""

from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr


def stream_url(base: str, query: dict[str, str] | None = None) -> str:
    """The ws(s):// URL the provider should open; ``base`` is the public WebSocket base
    (bot.security.public_url.public_base), so it names the host the provider reaches."""
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


def spoken_refusal(provider: str, line: str) -> str | None:
    """A short spoken message and a hang-up in the provider's own markup (TwiML, Telnyx
    TeXML, Plivo XML); None for a provider without an XML webhook (Exotel)."""
    say = {"twilio": "Say", "telnyx": "Say", "plivo": "Speak"}.get(provider)
    if say is None:
        return None
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<Response>\n'
        f"  <{say}>{escape(line)}</{say}>\n  <Hangup />\n</Response>"
    )
