"""Provider call control without a provider: the TwiML a Twilio transfer sends."""

from xml.etree import ElementTree

from pipelines.call_control.providers import twilio_dial_twiml


def test_sip_destinations_dial_a_sip_uri():
    dial = ElementTree.fromstring(twilio_dial_twiml("sip:support@pbx.example.com"))[0]
    assert [(e.tag, e.text) for e in dial] == [("Sip", "sip:support@pbx.example.com")]
