"""Tool configuration: names resolve at start-up, schemas are flat, bad input is refused
with the key and the reason; bad arguments become error results, never exceptions."""

import pytest
from pydantic import BaseModel

from bot.call.tool_kit import ToolKit
from bot.config.errors import ConfigError
from bot.config.profiles import parse_profile
from bot.config.settings import load_settings
from processors.tools.base import Tool, ToolArgs, ToolError
from processors.tools.builtin.transfer_call import TransferCall
from processors.tools.dispatch import UNPARSEABLE_ARGUMENTS_KEY, validate_arguments
from processors.tools.farewell_guard import farewell_pattern
from processors.tools.registry import discover_tools, flat_properties

BASE = {"instructions": "Be brief.", "greeting": "Hello."}


def profile(**fields):
    return parse_profile({**BASE, **fields}, "t")


def kit(settings=None, **fields) -> ToolKit:
    return ToolKit.from_profile(profile(**fields), settings or load_settings(_env_file=None))


def test_every_shipped_tool_is_found_by_name_with_a_flat_schema():
    tools = discover_tools()
    assert set(tools) >= {
        "hangup_call",
        "transfer_call",
        "cancel_transfer",
        "send_call_summary",
        "request_transcript",
    }
    for tool in tools.values():
        properties, required = flat_properties(tool)
        for prop in properties.values():
            assert "type" in prop or "enum" in prop, (tool.name, prop)
        assert set(required) <= set(properties)


def test_unknown_tool_stops_start_up_naming_tools():
    with pytest.raises(ConfigError) as info:
        kit(tools=["hangup_call", "launch_rockets"])
    assert info.value.key == "profile t: tools"
    assert "'launch_rockets'" in info.value.reason and "hangup_call" in info.value.reason


def test_transfer_needs_an_allow_list_of_valid_destinations():
    with pytest.raises(ConfigError, match="transfer_destinations"):
        kit(tools=["transfer_call"])
    with pytest.raises(ConfigError) as info:
        profile(tool_settings={"transfer_destinations": {"sales": "555-0100"}})
    assert info.value.key == "profile t: tool_settings.transfer_destinations"
    assert "E.164" in info.value.reason
    ok = kit(
        tools=["transfer_call"],
        tool_settings={"transfer_destinations": {"sales": "+15550100123", "pbx": "sip:a@b.c"}},
    )
    assert ok.names == ["transfer_call"]


def test_unknown_tool_settings_key_lists_the_valid_ones():
    with pytest.raises(ConfigError) as info:
        profile(tool_settings={"hangup_timeout": 5})
    assert info.value.key == "profile t: tool_settings.hangup_timeout"
    assert "hangup_timeout_s" in info.value.reason


def test_summary_tools_need_a_delivery_destination():
    with pytest.raises(ConfigError, match="SUMMARY_WEBHOOK_URL"):
        kit(tools=["send_call_summary"])
    no_secret = load_settings(_env_file=None, summary_webhook_url="https://hooks.example.com/x")
    with pytest.raises(ConfigError) as info:
        kit(no_secret, tools=["request_transcript"])
    assert info.value.key == "SUMMARY_WEBHOOK_SECRET"
    email = load_settings(_env_file=None, smtp_host="mail.example.com", summary_email_to="a@b.c")
    assert kit(email, tools=["send_call_summary"]).names == ["send_call_summary"]


def test_nested_argument_models_are_refused():
    class Address(BaseModel):
        city: str

    class NestedArgs(ToolArgs):
        address: Address

    class NestedTool(Tool):
        name = "nested"
        description = "x"
        Args = NestedArgs

    with pytest.raises(TypeError, match="flat"):
        flat_properties(NestedTool)


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({UNPARSEABLE_ARGUMENTS_KEY: '{"destination": "sa'}, "not valid JSON"),
        ([1, 2], "JSON object"),
        ({"destination": 5}, "destination"),
        ({}, "destination: Field required"),
        ({"destination": "sales", "number": "+1555"}, "number"),
    ],
)
def test_bad_arguments_become_a_tool_error(arguments, expected):
    with pytest.raises(ToolError, match=expected):
        validate_arguments(TransferCall, arguments)


def test_farewell_phrases_match_whole_words_only():
    pattern = farewell_pattern(["goodbye", "bye", "have a nice day"])
    assert pattern.search("Thank you for calling. Goodbye!")
    assert pattern.search("OK, bye.")
    assert pattern.search("Have a  nice day")
    assert not pattern.search("The bylaws say so.")
    assert not pattern.search("Maybe tomorrow.")
