"""Call control for telephony providers over their REST APIs (Twilio, Telnyx).

Implements the `CallControl` protocol that the tools define
(`processors/tools/call_control.py`); LiveKit's lives beside it in `livekit.py`.
"""

from __future__ import annotations

from xml.etree import ElementTree

import aiohttp
from loguru import logger
from pipecat.runner.types import CallData
from pipecat.serializers.base_serializer import FrameSerializer
from twilio.twiml.voice_response import Dial, VoiceResponse

from bot.config.settings import Settings
from processors.tools.call_control import CallControl, CallControlError

TWILIO_API_BASE_URL = "https://api.twilio.com"
TELNYX_API_BASE_URL = "https://api.telnyx.com"
REST_TIMEOUT_S = 10.0


def withhold_serializer_hang_up(serializer: FrameSerializer | None) -> None:
    """After a transfer the call SID belongs to the new leg: the provider serializer's
    auto hang-up on EndFrame/CancelFrame would hang up the transferred caller.

    Pipecat 1.14 serializers have no public switch for this; they guard their one hang-up
    attempt with ``_hangup_attempted``, so marking it attempted withholds it (pinned in
    pipelines/pipecat_internals.py: without the pin a rename would make this a silent no-op).
    """
    inner = getattr(serializer, "inner", serializer)
    if inner is not None and hasattr(inner, "_hangup_attempted"):
        inner._hangup_attempted = True


def twilio_dial_twiml(target: str) -> str:
    response = VoiceResponse()
    dial = Dial()
    if target.startswith(("sip:", "sips:")):
        dial.sip(target)
    else:
        dial.number(target)
    response.append(dial)
    return str(response)


class TelephonyCallControl:
    """Hang-up needs nothing here: when the pipeline ends, the provider's Pipecat serializer
    hangs up over REST (credentials permitting). Transfer is this class's job."""

    def __init__(self, provider: str, serializer: FrameSerializer | None = None):
        self.provider = provider
        self._serializer = serializer

    @property
    def can_transfer(self) -> bool:
        return False

    @property
    def can_voicemail(self) -> bool:
        return False

    async def hang_up(self) -> None:
        return None

    async def transfer(self, target: str) -> None:
        raise CallControlError(f"transfer is not available on {self.provider} lines")

    async def send_to_voicemail(self, mailbox: str) -> None:
        raise CallControlError(f"voicemail needs an Asterisk line, not {self.provider}")

    async def _request_transfer(self, url: str, **kwargs) -> None:
        timeout = aiohttp.ClientTimeout(total=REST_TIMEOUT_S)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(url, **kwargs) as response:
                    if response.status >= 300:
                        body = (await response.text())[:200]
                        raise CallControlError(
                            f"{self.provider} API answered {response.status}: {body}"
                        )
        except aiohttp.ClientError as exc:
            raise CallControlError(f"{self.provider} API unreachable: {exc}") from None
        withhold_serializer_hang_up(self._serializer)


class TwilioCallControl(TelephonyCallControl):
    """Transfer = update the live call with `<Dial>` TwiML (Calls resource, `Twiml=`)."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        call_sid: str,
        base_url: str | None = None,
        serializer: FrameSerializer | None = None,
    ):
        super().__init__("twilio", serializer)
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._call_sid = call_sid
        self._base_url = (base_url or TWILIO_API_BASE_URL).rstrip("/")

    @property
    def can_transfer(self) -> bool:
        return True

    async def transfer(self, target: str) -> None:
        account = f"{self._base_url}/2010-04-01/Accounts/{self._account_sid}"
        url = f"{account}/Calls/{self._call_sid}.json"
        twiml = twilio_dial_twiml(target)
        ElementTree.fromstring(twiml)  # never send TwiML we could not parse ourselves
        logger.info(f"twilio call {self._call_sid}: transferring with {twiml}")
        auth = aiohttp.encode_basic_auth(self._account_sid, self._auth_token)
        await self._request_transfer(url, headers={"Authorization": auth}, data={"Twiml": twiml})


class TelnyxCallControl(TelephonyCallControl):
    """Transfer = Call Control `actions/transfer` with the destination in `to`."""

    def __init__(
        self,
        *,
        api_key: str,
        call_control_id: str,
        base_url: str | None = None,
        serializer: FrameSerializer | None = None,
    ):
        super().__init__("telnyx", serializer)
        self._api_key = api_key
        self._call_control_id = call_control_id
        self._base_url = (base_url or TELNYX_API_BASE_URL).rstrip("/")

    @property
    def can_transfer(self) -> bool:
        return True

    async def transfer(self, target: str) -> None:
        url = f"{self._base_url}/v2/calls/{self._call_control_id}/actions/transfer"
        headers = {"Authorization": f"Bearer {self._api_key}"}
        logger.info(f"telnyx call {self._call_control_id}: transferring to {target}")
        await self._request_transfer(url, headers=headers, json={"to": target})


def telephony_call_control(
    provider: str, call_data: CallData, settings: Settings, serializer: FrameSerializer
) -> CallControl:
    """The richest control the provider and the configured credentials allow."""
    call_id = call_data.get("call_id")
    twilio_ready = settings.twilio_account_sid and settings.twilio_auth_token and call_id
    if provider == "twilio" and twilio_ready:
        return TwilioCallControl(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            call_sid=call_id,
            base_url=settings.twilio_api_base_url,
            serializer=serializer,
        )
    if provider == "telnyx" and settings.telnyx_api_key and call_id:
        return TelnyxCallControl(
            api_key=settings.telnyx_api_key.get_secret_value(),
            call_control_id=call_id,
            serializer=serializer,
        )
    # Plivo's transfer needs a public URL serving the <Dial> XML, Exotel has no REST
    # transfer: both hang up through their serializers only.
    return TelephonyCallControl(provider, serializer)
