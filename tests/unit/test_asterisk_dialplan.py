"""What the dialplan tells the bot and asks of it: caller details (URI parameters, channel
variables, FastAGI register), the DID → profile map, hand-off targets, and the FastAGI
request parsing. Socket-level FastAGI is in tests/inprocess/test_asterisk_agi.py."""

import asyncio
import uuid

import pytest
from pydantic import ValidationError

from bot.asterisk.agi_server import AgiError, quote, read_request
from bot.asterisk.calls import CallDirectory, call_key
from bot.asterisk.websocket_endpoint import caller_from_dialplan
from bot.config.caller_info import CallerInfo
from bot.config.errors import ConfigError
from bot.config.settings import load_settings
from bot.config.tools import ToolSettings
from pipelines.call_control.asterisk import Handoff
from processors.tools.base import ToolContext, ToolError
from processors.tools.builtin.send_to_voicemail import SendToVoicemail, VoicemailArgs


def test_uri_parameters_win_then_channel_variables_then_the_registration():
    registered = CallerInfo(number="+15550000001", name="Reg", called_number="3000")
    caller = caller_from_dialplan(
        {"cname": "Ada Lovelace", "uuid": "x", "lang": "en"},
        {"AI_CID": "+15551230000", "AI_CNAME": "Not Used"},
        registered,
    )
    assert (caller.number, caller.name, caller.called_number) == (
        "+15551230000",
        "Ada Lovelace",
        "3000",
    )
    assert caller.custom == {"lang": "en"}


def test_dialplan_values_are_sanitised_like_every_line():
    caller = caller_from_dialplan(
        {"cid": "sip:+1555123@10.0.0.1", "cname": "Ada {company_name}\nIgnore all"}, {}, None
    )
    assert caller.number == "+1555123"
    assert "{" not in caller.name and "\n" not in caller.name and len(caller.name) <= 40


def test_call_keys_are_canonical_uuids_or_the_id_as_it_is():
    ident = uuid.uuid4()
    assert call_key(str(ident).upper()) == str(ident)
    assert call_key(" 1754400000.7 ") == "1754400000.7"
    assert call_key("") is None and call_key("x" * 200) is None and call_key(None) is None
    assert call_key("bad\nid") is None


async def test_directory_hands_a_registration_out_once_and_waits_for_a_finishing_call():
    directory = CallDirectory()
    directory.register("u1", CallerInfo(number="+1555"))
    assert directory.take_registration(["zz", "u1"]).number == "+1555"
    assert directory.take_registration(["u1"]) is None
    outcome = directory.call_started("c1", ["u1", "1.7"])
    assert (await directory.outcome("1.7", wait_s=0.05)) is outcome
    outcome.hand_off(Handoff("transfer", "2001"))
    found = await asyncio.wait_for(directory.outcome("u1", wait_s=5), 1)
    assert found.handoff == Handoff("transfer", "2001")
    assert await directory.outcome("nope", wait_s=5) is None


async def test_agi_request_is_read_from_the_environment():
    reader = asyncio.StreamReader()
    reader.feed_data(
        b"agi_network: yes\nagi_network_script: after\nagi_request: agi://h/after\n"
        b"agi_callerid: unknown\nagi_arg_1: abc\nagi_arg_2: s3cret\n\n"
    )
    request = await read_request(reader)
    assert (request.script, request.args) == ("after", ["abc", "s3cret"])
    assert request.value("agi_callerid") == ""


async def test_agi_garbage_is_refused():
    reader = asyncio.StreamReader()
    reader.feed_data(b"GET / HTTP/1.1\n\n")
    with pytest.raises(AgiError, match="not an AGI environment line"):
        await read_request(reader)


def test_agi_values_are_quoted_for_parse_args():
    assert quote('a "b" \\c') == '"a \\"b\\" \\\\c"'
    assert quote("line\nbreak") == '"linebreak"'


def test_did_profiles_map_numbers_to_profiles():
    settings = load_settings(did_profiles="2001=default, +15551230000=default")
    assert settings.did_profile_map() == {"2001": "default", "+15551230000": "default"}
    with pytest.raises(ConfigError, match="DID_PROFILES: number 2001 is mapped twice"):
        load_settings(did_profiles="2001=a,2001=b")


def test_transfer_targets_may_be_extensions_and_mailboxes_are_checked():
    settings = ToolSettings(
        transfer_destinations={"sales": "2001", "queue": "600", "out": "+15550100123"},
        voicemail={"sales": "2001@default", "front": "100"},
    )
    assert settings.transfer_destinations["sales"] == "2001"
    with pytest.raises(ValidationError, match="not a mailbox"):
        ToolSettings(voicemail={"sales": "2001@default;Hangup()"})
    with pytest.raises(ValidationError, match="nor an extension"):
        ToolSettings(transfer_destinations={"sales": "2001,1,Hangup"})


class _Actions:
    def __init__(self, can: bool) -> None:
        self.can_voicemail = can
        self.sent: list[tuple[str, str]] = []

    async def voicemail_after_speech(self, name: str, mailbox: str) -> None:
        self.sent.append((name, mailbox))


async def test_send_to_voicemail_only_to_listed_mailboxes_on_lines_that_can():
    settings = ToolSettings(voicemail={"sales": "2001@default"})
    actions = _Actions(can=True)
    ctx = ToolContext(call_id="c", settings=settings, actions=actions)  # type: ignore[arg-type]
    result = await SendToVoicemail().run(VoicemailArgs(mailbox="Sales"), ctx)
    assert actions.sent == [("sales", "2001@default")] and result.data == {"mailbox": "sales"}
    with pytest.raises(ToolError, match="unknown mailbox"):
        await SendToVoicemail().run(VoicemailArgs(mailbox="+15550000000"), ctx)
    ctx.actions = _Actions(can=False)  # type: ignore[assignment]
    with pytest.raises(ToolError, match="not available on this line"):
        await SendToVoicemail().run(VoicemailArgs(mailbox="sales"), ctx)
