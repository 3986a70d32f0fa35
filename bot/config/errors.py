"""The single error type raised for invalid configuration (settings, profiles)."""

from __future__ import annotations


def _one_line(text: str) -> str:
    # Start-up failures are read in terminals and log aggregators that split on newlines;
    # a multi-line message would scatter the key and the reason across records.
    return " ".join(str(text).split())


class ConfigError(Exception):
    """Invalid configuration: names the offending key and why it is wrong.

    Callers must never put secret values into ``reason``; the message is logged verbatim.
    """

    def __init__(self, key: str, reason: str) -> None:
        self.key = _one_line(key)
        self.reason = _one_line(reason)
        super().__init__(self.key, self.reason)

    def __str__(self) -> str:
        return f"config error: {self.key}: {self.reason}"
