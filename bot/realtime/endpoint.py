"""Which Realtime API a bot talks to: OpenAI, or the bundled emulator when offline."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from loguru import logger

from bot.call.call import RealtimeEndpoint
from bot.config.settings import Settings

EMULATOR_API_KEY = "sk-emulator-local"


@asynccontextmanager
async def realtime_endpoint(
    settings: Settings, *, offline: bool, url: str | None = None
) -> AsyncIterator[RealtimeEndpoint]:
    """OpenAI's endpoint, or, with `offline` or no key, a bundled emulator for the duration."""
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    if not offline and api_key:
        yield RealtimeEndpoint(url=url or settings.openai_realtime_url, api_key=api_key)
        return
    from sim.realtime import EmulatorConfig, RealtimeEmulator

    reason = "--offline given" if offline else "no OPENAI_API_KEY"
    logger.warning(f"OFFLINE: {reason}; the bundled Realtime emulator answers, not OpenAI")
    emulator = RealtimeEmulator(EmulatorConfig())
    await emulator.start(host="127.0.0.1", port=0)
    try:
        yield RealtimeEndpoint(url=emulator.url, api_key=EMULATOR_API_KEY, emulated=True)
    finally:
        await emulator.stop()
