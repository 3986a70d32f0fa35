"""The one place secrets are scrubbed: every log line (loguru sink, tracebacks included)
and every call record go through a Redactor.

It replaces the configured secret values (API keys, auth tokens, the LiveKit secret…) and
anything shaped like a minted stream token.
"""

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from loguru import logger

from bot.security.stream_tokens import TOKEN_PATTERN

MASK = "[redacted]"
# Shorter values would also blank out ordinary words; no real key is this short.
MIN_SECRET_LEN = 6


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()):
        values = sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LEN}, key=len)
        # Longest first, so a secret containing another is masked whole.
        alternatives = [re.escape(v) for v in reversed(values)] + [TOKEN_PATTERN.pattern]
        self._pattern = re.compile("|".join(alternatives))

    def redact(self, text: str) -> str:
        return self._pattern.sub(MASK, text)

    def redact_data(self, value: Any) -> Any:
        """A JSON-like structure with every string (keys included) redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact_data(k): self.redact_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_data(v) for v in value]
        return value


class RedactingSink:
    """A loguru sink: the formatted line, traceback included, is redacted as it is written."""

    def __init__(self, redactor: Redactor, stream: TextIO = sys.stderr):
        self._redactor = redactor
        self._stream = stream

    def write(self, message: str) -> None:
        self._stream.write(self._redactor.redact(message))
        self._stream.flush()


class _ToLoguru(logging.Handler):
    """Standard-library logging (uvicorn, websockets, httpx) into loguru and so its sink."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            level: str | int = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


def install_redacting_logging(level: str, redactor: Redactor, stream: TextIO = sys.stderr) -> None:
    """Route all logging through one redacting loguru sink."""
    logger.remove()
    logger.add(RedactingSink(redactor, stream).write, level=level.upper(), colorize=False)
    logging.basicConfig(handlers=[_ToLoguru()], level=logging.WARNING, force=True)
