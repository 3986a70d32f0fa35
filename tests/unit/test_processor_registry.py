"""Processors are found by name, checked at start-up, and refused with the profile key."""

import textwrap

import pytest

from bot.call.processor_kit import ProcessorKit
from bot.config.errors import ConfigError
from bot.config.profiles import parse_profile
from processors.dtmf import Dtmf
from processors.no_input_watchdog import NoInputWatchdog
from processors.registry import ENTRY_POINT_GROUP, ProcessorRegistry
from tests.helpers.sample_processors import FrameCounter


def profile_with(processors: list[dict], **extra):
    data = {"instructions": "Help.", "greeting": "Hello.", "processors": processors, **extra}
    return parse_profile(data, "p")


def config_error(processors: list[dict], **extra) -> str:
    with pytest.raises(ConfigError) as info:
        ProcessorKit.from_profile(profile_with(processors, **extra))
    return str(info.value)


def test_built_ins_register_themselves():
    builtins = ProcessorRegistry().builtins
    assert builtins["no_input_watchdog"] is NoInputWatchdog
    assert builtins["dtmf"] is Dtmf


@pytest.mark.parametrize(
    "name",
    [
        "tests.helpers.sample_processors:FrameCounter",
        "tests.helpers.sample_processors.FrameCounter",
    ],
)
def test_dotted_paths_resolve_to_the_class(name):
    kit = ProcessorKit.from_profile(
        profile_with([{"name": name, "position": "after_llm", "options": {"tag": "x"}}])
    )
    [entry] = kit.entries
    assert entry.cls is FrameCounter and entry.position == "after_llm"
    assert entry.options.tag == "x"


def test_entry_points_are_found(tmp_path, monkeypatch):
    (tmp_path / "acme_meters.py").write_text(
        textwrap.dedent(
            """
            from processors.base import ProfileProcessor

            class Meter(ProfileProcessor):
                pass
            """
        )
    )
    dist = tmp_path / "acme_meters-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-meters\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nmeter = acme_meters:Meter\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = ProcessorRegistry()
    assert "meter" in registry.names()
    assert registry.resolve("meter").__name__ == "Meter"


@pytest.mark.parametrize(
    ("processors", "key", "reason"),
    [
        ([{"name": "no_such"}], "processors[0].name", "available: dtmf, no_input_watchdog"),
        ([{"name": "nosuchmodule:Thing"}], "processors[0].name", "cannot import module"),
        (
            [{"name": "tests.helpers.sample_processors:Nope"}],
            "processors[0].name",
            "no attribute 'Nope'",
        ),
        ([{"name": "bot.config.profiles:Profile"}], "processors[0].name", "not a ProfileProcessor"),
        (
            [{"name": "dtmf"}, {"name": "no_input_watchdog", "options": {"timeout_s": -1}}],
            "processors[1].options.timeout_s",
            "greater than 0",
        ),
        (
            [{"name": "no_input_watchdog", "options": {"timeout": 5}}],
            "processors[0].options.timeout",
            "unknown option",
        ),
        (
            [{"name": "dtmf", "options": {"message": "pressed {key}"}}],
            "processors[0].options.message",
            "unknown field {key}",
        ),
        (
            [{"name": "dtmf", "options": {"actions": {"0x": {"tool": "transfer_call"}}}}],
            "processors[0].options.actions",
            "not a key sequence",
        ),
        (
            [{"name": "tests.helpers.sample_processors:FrameCounter"}],
            "processors[0].options.tag",
            "Field required",
        ),
    ],
)
def test_bad_entries_name_the_profile_key(processors, key, reason):
    text = config_error(processors)
    assert f"profile p: {key}:" in text and reason in text, text


def test_dtmf_actions_must_use_the_profiles_tools_with_valid_arguments():
    transfer = {"tool": "transfer_call", "arguments": {"destination": "operator"}}
    keypad = {"name": "dtmf", "options": {"actions": {"0": transfer}}}
    assert "not in the profile's tools" in config_error([keypad])
    tools = {
        "tools": ["transfer_call"],
        "tool_settings": {"transfer_destinations": {"operator": "+15550100999"}},
    }
    ProcessorKit.from_profile(profile_with([keypad], **tools))
    bad = {"tool": "transfer_call", "arguments": {"where": "operator"}}
    text = config_error([{"name": "dtmf", "options": {"actions": {"0": bad}}}], **tools)
    assert "processors[0].options" in text and "where" in text
    text = config_error([{"name": "dtmf", "options": {"actions": {"0#": transfer}}}], **tools)
    assert "without the terminator" in text
