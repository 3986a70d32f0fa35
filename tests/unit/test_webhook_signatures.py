"""Plivo's V3 webhook signature, ours and the phone simulator's, pinned to Plivo's own SDK."""

import pytest

from bot.security.signatures import plivo_v3_signature
from sim.phone.webhook import plivo_v3_signature as sim_plivo_signature

# Known answers computed with plivo-python's signature_v3 (auth token "MAtestAuthToken123",
# nonce "nonce42"), so our implementation is pinned to Plivo's, not to itself.
PLIVO_VECTORS = [
    (
        "POST",
        "https://bot.example.com/",
        {"CallUUID": ["abc-123"], "From": ["+15551230000"], "To": ["+15559870000"]},
        "9+ZOSvZPqoyKXwyf3jd0UTxzoFZqazpp6sHZdA6ZJRI=",
    ),
    (
        "POST",
        "https://bot.example.com/answer?b=2&a=1",
        {"From": ["+1555"]},
        "B0WFaAQjiF8GfV2+8KEVOa6pQQ24icuhdasyCy0TiWY=",
    ),
    (
        "GET",
        "https://bot.example.com/answer?z=1&a=2",
        {},
        "x8Sw7zl1cb1g/YGKaZrPlDFNkuv8ufBOJQbzDLloBS8=",
    ),
]


@pytest.mark.parametrize(("method", "url", "params", "expected"), PLIVO_VECTORS)
def test_plivo_v3_signature_matches_plivos_sdk(method, url, params, expected):
    assert plivo_v3_signature("MAtestAuthToken123", method, url, params, "nonce42") == expected


@pytest.mark.parametrize(("method", "url", "params", "expected"), PLIVO_VECTORS[:2])
def test_phone_simulators_plivo_signer_matches_plivos_sdk(method, url, params, expected):
    form = {k: v[0] for k, v in params.items()}
    assert sim_plivo_signature("MAtestAuthToken123", url, form, "nonce42") == expected
