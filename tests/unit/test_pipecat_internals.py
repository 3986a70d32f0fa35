"""Every private Pipecat name the product relies on still exists, with the kind we rely on.

The list lives in `pipelines/pipecat_internals.py`. Each entry is checked against the installed
Pipecat; a missing or changed name fails with one message naming ``owner.name``.

How each kind is checked:

- methods: ``inspect.getattr_static`` on the owner class (its MRO), then a plain function for
  ``METHOD``, a coroutine function for ``ASYNC_METHOD`` (an override that calls ``super()``
  breaks when sync turns async or the other way round);
- class attributes: present on the class (its MRO), without running descriptors;
- instance attributes: an assignment ``self.<name> = …`` (or ``: … =``, ``+=``, a tuple target)
  in the source of the owner class or of a class in its MRO, read with ``ast``. Not by
  building an instance: the owners need live collaborators (a WebSocket, a LiveKit room, a
  provider's credentials), and many of Pipecat's attributes are first set in ``setup()`` or
  ``start()``, which a cheaply built instance never runs, so "not on this instance" would not
  mean "gone". The source is what defines the attribute, whatever path sets it; its one blind
  spot, ``setattr(self, "<name>", …)``, is a style Pipecat does not use for these.

The checking itself is `tests/helpers/pipecat_pins.py`.
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
import textwrap

import pytest

from pipelines.pipecat_internals import PIPECAT_INTERNALS, Kind, PipecatInternal
from tests.helpers import pipecat_pins
from tests.helpers.pipecat_pins import (
    LIST_MODULE,
    REPO,
    imports_in,
    missing,
    pipecat_names,
    pipecat_subclasses,
    problem,
    product_files,
    unlisted_attributes,
    unlisted_elsewhere,
    unlisted_overrides,
)


@pytest.mark.parametrize("entry", PIPECAT_INTERNALS, ids=lambda e: f"{e.owner}|{e.name}")
def test_the_installed_pipecat_still_has_it(entry):
    assert problem(entry) is None, problem(entry)


def test_a_method_gone_from_pipecat_is_named(monkeypatch):
    from pipecat.processors.aggregators.dtmf_aggregator import DTMFAggregator

    monkeypatch.delattr(DTMFAggregator, "_flush_aggregation")

    found = missing()
    assert len(found) == 1, found
    owner = "pipecat.processors.aggregators.dtmf_aggregator:DTMFAggregator"
    assert found[0].startswith(f"{owner}._flush_aggregation: missing")


def test_an_owner_gone_from_pipecat_is_named(monkeypatch):
    import pipecat.serializers.twilio

    monkeypatch.delattr(pipecat.serializers.twilio, "TwilioFrameSerializer")

    found = missing()
    assert len(found) == 1, found
    assert found[0].startswith(
        "pipecat.serializers.twilio:TwilioFrameSerializer._hangup_attempted: owner class not found"
    )


PLANTED = """
class Base:
    where = "class"

    def __init__(self):
        self._hangup_tried, self._count = False, 0

    def _sync(self):
        pass

    async def _flush(self):
        pass


class Serializer(Base):
    async def setup(self):
        self._later: int = 1
"""


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("_hangup_tried", Kind.INSTANCE_ATTRIBUTE, None),  # assigned in a base, tuple target
        ("_later", Kind.INSTANCE_ATTRIBUTE, None),  # first assigned outside __init__
        ("_hangup_attempted", Kind.INSTANCE_ATTRIBUTE, "no longer assigned on self"),
        ("_sync", Kind.METHOD, None),
        ("_flush", Kind.ASYNC_METHOD, None),
        ("where", Kind.CLASS_ATTRIBUTE, None),
        ("_flush", Kind.METHOD, "now an async method, not the method we rely on"),
        ("_sync", Kind.ASYNC_METHOD, "now a plain method, not the async method we rely on"),
        ("where", Kind.METHOD, "now a str, not the method we rely on"),
        ("_gone", Kind.METHOD, "missing from the class and its bases"),
    ],
)
def test_each_kind_is_checked_on_the_owner_and_its_bases(
    tmp_path, monkeypatch, name, kind, expected
):
    (tmp_path / "planted_pipecat.py").write_text(PLANTED)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "planted_pipecat", raising=False)
    entry = PipecatInternal("planted_pipecat:Serializer", name, kind, "x.py", "planted")

    found = problem(entry)

    if expected is None:
        assert found is None
    else:
        assert found is not None and found.startswith(f"planted_pipecat:Serializer.{name}: ")
        assert expected in found


def test_each_entry_is_a_private_pipecat_name_listed_once():
    keys = [(e.owner, e.name) for e in PIPECAT_INTERNALS]
    assert len(keys) == len(set(keys)), "duplicate entries"
    for e in PIPECAT_INTERNALS:
        assert e.owner.startswith("pipecat.") and ":" in e.owner, e
        assert e.name.startswith("_") and not e.name.startswith("__"), e
        assert e.why.strip() and "\n" not in e.why, e


@pytest.mark.parametrize("entry", PIPECAT_INTERNALS, ids=lambda e: f"{e.owner}|{e.name}")
def test_the_entry_is_still_used_where_it_says(entry):
    path = REPO / entry.used_in
    assert path.is_file(), f"{entry.owner}.{entry.name}: {entry.used_in} does not exist"
    assert entry.name in path.read_text(), (
        f"{entry.owner}.{entry.name}: {entry.used_in} no longer uses it; delete the entry"
    )


def test_the_list_is_data_nobody_in_the_product_imports():
    ours = ("bot", "pipelines", "processors", "runner", "sim", "bench", "tests", "pipecat")
    own_imports = [
        line for line in imports_in(REPO / LIST_MODULE) if line.split()[1].split(".")[0] in ours
    ]
    assert own_imports == [], f"{LIST_MODULE} must import nothing of ours nor Pipecat"
    importers = [
        f"{path.relative_to(REPO)}: {line}"
        for path in product_files(skip_pending=False)
        for line in imports_in(path)
        if "pipecat_internals" in line
    ]
    assert importers == [], "the product must not import the list (it is the test's data)"


def test_every_override_of_a_private_pipecat_method_is_listed():
    unlisted = unlisted_overrides()
    assert not unlisted, f"add to {LIST_MODULE}:\n" + "\n".join(unlisted)


def test_every_private_pipecat_attribute_our_subclasses_touch_is_listed():
    unlisted = unlisted_attributes()
    advice = f"add to {LIST_MODULE} (or rename ours where it only shadows Pipecat's)"
    assert not unlisted, "\n".join([f"{advice}:", *unlisted])


def test_every_private_name_reached_on_another_object_is_listed():
    unlisted = unlisted_elsewhere()
    advice = f"add to {LIST_MODULE} if Pipecat's, else to NOT_PIPECAT"
    assert not unlisted, "\n".join([f"{advice}:", *unlisted])


def test_every_private_pipecat_name_in_a_string_is_listed():
    """Names dispatched by string (`getattr(self, handler)` over a table of handler names)."""
    theirs: dict[str, type] = {}
    for _path, _node, bases in pipecat_subclasses(skip_pending=False):
        for name, owner in pipecat_names(bases).items():
            theirs.setdefault(name, owner)
    listed = {e.name for e in PIPECAT_INTERNALS}
    unlisted = [
        f"{path.relative_to(REPO)}:{n.lineno}: {owner.__module__}:{owner.__qualname__}.{n.value}"
        for path in product_files()
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and (owner := theirs.get(n.value)) is not None
        and n.value not in listed
    ]
    assert not unlisted, f"add to {LIST_MODULE}:\n" + "\n".join(unlisted)


def test_the_completeness_checks_see_an_unlisted_reach_in(monkeypatch):
    """With entries taken out of the list, the product's own reach-ins are reported: the Dtmf
    processor's override of `_flush_aggregation` and use of `_aggregation`, and the write to
    a serializer's `_hangup_attempted`."""
    stripped = tuple(
        e
        for e in PIPECAT_INTERNALS
        if "dtmf_aggregator" not in e.owner and e.name != "_hangup_attempted"
    )
    monkeypatch.setattr(pipecat_pins, "PIPECAT_INTERNALS", stripped)
    dtmf = "pipecat.processors.aggregators.dtmf_aggregator:DTMFAggregator"

    def without_line(found: list[str]) -> list[str]:
        return [re.sub(r":\d+:", ":", line) for line in found]

    assert without_line(unlisted_overrides()) == [
        f"processors/dtmf.py: Dtmf overrides {dtmf}._flush_aggregation"
    ]
    assert unlisted_attributes() == [f"processors/dtmf.py: Dtmf uses {dtmf}._aggregation"]
    assert without_line(unlisted_elsewhere()) == [
        "pipelines/call_control/providers.py: inner._hangup_attempted",
        "pipelines/call_control/providers.py: inner._hangup_attempted",
    ]


def test_our_handler_table_is_pipecats_receive_loop():
    """`PIPECAT_HANDLERS` routes server events to Pipecat's handlers from our own receive loop;
    Pipecat's `_receive_task_handler` is the dispatch it copies. An event type Pipecat starts
    (or stops) handling in a release must change the table too, or events go unhandled.
    `session.created` and `error` are ours by design (session opening, error classes)."""
    from pipecat.services.openai.realtime.llm import OpenAIRealtimeLLMService

    from pipelines.realtime.event_handlers import PIPECAT_HANDLERS

    loop = ast.parse(
        textwrap.dedent(inspect.getsource(OpenAIRealtimeLLMService._receive_task_handler))
    )
    dispatch = {}
    for branch in ast.walk(loop):
        if not isinstance(branch, ast.If):
            continue
        test = branch.test
        if not (isinstance(test, ast.Compare) and ast.unparse(test.left) == "evt.type"):
            continue
        event_type = test.comparators[0].value
        calls = [n for n in ast.walk(branch.body[0]) if isinstance(n, ast.Call)]
        dispatch[event_type] = calls[0].func.attr if calls else None
    assert dispatch, "Pipecat's receive loop no longer dispatches on evt.type"
    ours_by_design = {"session.created", "error"}
    theirs = {k: v for k, v in dispatch.items() if k not in ours_by_design}
    assert theirs == PIPECAT_HANDLERS
