"""Redaction, the one place secrets are scrubbed: log lines (tracebacks and standard-library
logging included) and call-record data."""

import io
import logging

from loguru import logger

from bot.config.settings import Settings
from bot.security.redaction import MASK, Redactor, install_redacting_logging
from bot.security.stream_tokens import StreamTokens

KEY = "sk-proj-unitTestSecret123456"


def test_secrets_and_minted_tokens_are_masked_in_text_and_data():
    token = StreamTokens(b"k" * 32, 60).mint("CA1")
    redactor = Redactor([KEY, "short"])
    text = f"key={KEY} token={token} word=short"
    assert redactor.redact(text) == f"key={MASK} token={MASK} word=short"
    data = {"errors": [f"bad {KEY}"], KEY: {"nested": (token,)}, "n": 3}
    assert redactor.redact_data(data) == {
        "errors": [f"bad {MASK}"],
        MASK: {"nested": [MASK]},
        "n": 3,
    }


def test_settings_secrets_never_reach_the_log_even_in_tracebacks():
    settings = Settings(_env_file=None, openai_api_key=KEY, twilio_auth_token="twilio-tok-98765")
    out = io.StringIO()
    install_redacting_logging("DEBUG", Redactor(settings.secret_values()), out)
    try:
        try:
            raise RuntimeError(f"upstream said: Incorrect API key {KEY}")
        except RuntimeError:
            logger.exception("call failed")
        logging.getLogger("some.library").error("peer sent twilio-tok-98765")
    finally:
        logger.remove()
        logger.add(__import__("sys").stderr)
        logging.basicConfig(handlers=[], force=True)
    written = out.getvalue()
    assert "call failed" in written and "RuntimeError" in written
    assert "peer sent" in written
    assert KEY not in written and "twilio-tok-98765" not in written
    assert written.count(MASK) >= 2
