"""What `POST /` answers each provider's incoming-call webhook: connect the call's audio
to our `/ws` media-stream endpoint, carrying the caller's details along."""

from urllib.parse import urlencode
from xml.sax.saxutils import escape, quoteattr

from bot.config.caller_info import CallerInfo


def stream_url(base: str, query: dict[str, str] | None = None) -> str:
    """The ws(s):// URL the provider should open; ``base`` is the public WebSocket base
    (bot.security.public_url.public_base), so it names the host the provider reaches."""
    url = f"{base}/ws"
    return f"{url}?{urlencode(query)}" if query else url


def call_answer(
    provider: str, base: str, caller: CallerInfo, token_param: dict[str, str]
) -> str | None:
    """The provider's XML connecting the call to ``/ws`` (``base``: the public WebSocket
    base), the stream token in ``token_param``; None for Exotel, which has no XML webhook."""
    if provider == "twilio":
        params = {
            "from_number": caller.number,
            "to_number": caller.called_number,
            "caller_name": caller.name,
            **token_param,
        }
        return twilio_twiml(stream_url(base), params)
    if provider == "telnyx":
        return telnyx_texml(stream_url(base, token_param))
    if provider == "plivo":
        # Plivo's stream `start` carries no caller details, so they ride on the URL.
        query = {"from_number": caller.number, "to_number": caller.called_number}
        query = {k: v for k, v in query.items() if v} | token_param
        return plivo_xml(stream_url(base, query))
    return None


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
