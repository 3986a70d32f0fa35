"""Where a LiveKit SIP transfer sends the caller: a URI, whatever the profile names."""

from pipelines.call_control.livekit import sip_transfer_target


def test_transfer_targets_are_uris():
    assert sip_transfer_target("+15550100123") == "tel:+15550100123"
    assert sip_transfer_target("sip:desk@pbx.example.com") == "sip:desk@pbx.example.com"
