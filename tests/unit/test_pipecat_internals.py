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

Completeness is checked for the patterns a machine can see, over bot/, pipelines/,
processors/ and runner.py (our classes are imported to learn their MROs):

- a ``def _name`` in our subclass of a Pipecat class (or in a mixin of ours that such a
  subclass takes in) that a Pipecat class in its MRO also defines: an override;
- a ``self._name`` or ``super()._name`` in such a class that a Pipecat class in its MRO
  defines or assigns: a use, or our own attribute shadowing Pipecat's;
- ``obj._name`` or ``getattr(obj, "_name")`` on any other object where no code of ours
  defines ``_name`` (names our Pipecat subclasses only inherit do not count as ours);
- a string that is exactly a private name of a Pipecat class we subclass (handlers
  dispatched by name).

What none of them sees is a private name reached on another object whose name we also use
for something of our own; that is left to review, with the grep in the list's docstring.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
import re
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.pipecat_internals import PIPECAT_INTERNALS, Kind, PipecatInternal

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "pipelines", "processors", "runner.py")
# pipelines/realtime/ is being refactored and its entries are handed over separately; until
# they are in the list, the completeness checks skip it. Remove it from here then.
NOT_YET_LISTED = ("pipelines/realtime/",)
LIST_MODULE = "pipelines/pipecat_internals.py"
# Private names of other libraries reached on other objects, as "<expression>|<name>" (the
# way the foreign-access check prints them), which it would otherwise ask to list as
# Pipecat's. None today.
NOT_PIPECAT: frozenset[str] = frozenset()
_MISSING = object()


# --- checking one entry ---------------------------------------------------------------------


def resolve(owner: str) -> type:
    module_name, _, qualname = owner.partition(":")
    found: object = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    if not isinstance(found, type):
        raise TypeError(f"{owner} is not a class")
    return found


@functools.cache
def assigned_on_self(cls: type) -> frozenset[str]:
    """Names this class's own source assigns on ``self`` (its bases not included)."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):  # builtins, C extensions, generated classes
        return frozenset()
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        else:
            continue
        for target in targets:
            for leaf in ast.walk(target):
                if (
                    isinstance(leaf, ast.Attribute)
                    and isinstance(leaf.value, ast.Name)
                    and leaf.value.id == "self"
                ):
                    names.add(leaf.attr)
    return frozenset(names)


def problem(entry: PipecatInternal) -> str | None:
    """Why the installed Pipecat no longer has this entry's name, or None if it does."""
    label = f"{entry.owner}.{entry.name}"
    where = f"(used in {entry.used_in}: {entry.why})"
    try:
        cls = resolve(entry.owner)
    except (ImportError, AttributeError, TypeError) as exc:
        return f"{label}: owner class not found ({exc}) {where}"
    if entry.kind is Kind.INSTANCE_ATTRIBUTE:
        if any(entry.name in assigned_on_self(k) for k in cls.__mro__):
            return None
        return f"{label}: no longer assigned on self by {cls.__name__} or its bases {where}"
    found = inspect.getattr_static(cls, entry.name, _MISSING)
    if found is _MISSING:
        return f"{label}: missing from the class and its bases {where}"
    if entry.kind is Kind.CLASS_ATTRIBUTE:
        return None
    if not inspect.isfunction(found):
        actual = f"a {type(found).__name__}"
    elif inspect.iscoroutinefunction(found) != (entry.kind is Kind.ASYNC_METHOD):
        actual = "an async method" if inspect.iscoroutinefunction(found) else "a plain method"
    else:
        return None
    return f"{label}: now {actual}, not the {entry.kind.value} we rely on {where}"


def missing(entries: tuple[PipecatInternal, ...] = PIPECAT_INTERNALS) -> list[str]:
    return [p for entry in entries if (p := problem(entry)) is not None]


@pytest.mark.parametrize("entry", PIPECAT_INTERNALS, ids=lambda e: f"{e.owner}|{e.name}")
def test_the_installed_pipecat_still_has_it(entry):
    assert problem(entry) is None, problem(entry)


# --- the checker fails loudly -------------------------------------------------------------


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


# --- the list itself ------------------------------------------------------------------------


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


def imports_in(path: Path) -> list[str]:
    return [
        ast.unparse(n)
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.Import | ast.ImportFrom)
    ]


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


# --- completeness: the patterns a machine can see -------------------------------------------


def product_files(skip_pending: bool = True) -> list[Path]:
    files = []
    for top in PRODUCT:
        path = REPO / top
        files += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    if skip_pending:
        files = [f for f in files if not str(f.relative_to(REPO)).startswith(NOT_YET_LISTED)]
    return [f for f in files if f != REPO / LIST_MODULE]


def module_of(path: Path):
    parts = path.relative_to(REPO).with_suffix("").parts
    return importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))


def is_pipecat(cls: type) -> bool:
    return cls.__module__.startswith("pipecat.")


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def class_nodes(tree: ast.Module) -> Iterator[tuple[str | None, ast.ClassDef]]:
    """Every class statement with its qualified name (None inside a function)."""
    todo: list[tuple[str | None, ast.AST]] = [("", tree)]
    while todo:
        prefix, node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                qualname = None if prefix is None else f"{prefix}{child.name}"
                yield qualname, child
                todo.append((None if qualname is None else f"{qualname}.", child))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                todo.append((None, child))
            else:
                todo.append((prefix, child))


def resolve_class(module, qualname: str | None, node: ast.ClassDef) -> tuple[type | None, list]:
    """The class a statement defines and its MRO. A class inside a function has no name to
    look up (None), so its MRO is put together from its bases (enough to find Pipecat's)."""
    if qualname is not None:
        found = resolve(f"{module.__name__}:{qualname}")
        return found, list(found.__mro__)
    mro: list[type] = []
    for base in node.bases:
        expr = base.value if isinstance(base, ast.Subscript) else base
        found: object = module
        try:
            for part in ast.unparse(expr).split("."):
                found = getattr(found, part)
        except AttributeError:
            pytest.fail(f"{module.__name__}:{node.name}: cannot resolve base {ast.unparse(base)}")
        if isinstance(found, type):
            mro += found.__mro__
    return None, list(dict.fromkeys(mro))


@functools.cache
def product_classes() -> tuple[tuple[Path, ast.ClassDef, type | None, tuple[type, ...]], ...]:
    """Every class statement of the product (pending folders included): class, MRO."""
    found = []
    for path in product_files(skip_pending=False):
        nodes = list(class_nodes(ast.parse(path.read_text())))
        if nodes:
            module = module_of(path)
            for qualname, node in nodes:
                cls, mro = resolve_class(module, qualname, node)
                found.append((path, node, cls, tuple(mro)))
    return tuple(found)


def pipecat_subclasses(
    skip_pending: bool = True,
) -> Iterator[tuple[Path, ast.ClassDef, list[type]]]:
    """Each class statement of ours that ends up combined with Pipecat classes, with those
    classes in MRO order: a subclass of a Pipecat class, and also a mixin of ours that one
    of our Pipecat subclasses takes in (its `super()._x` reaches Pipecat just the same)."""
    combined: dict[type, list[type]] = {}
    for _path, _node, cls, mro in product_classes():
        pipecat = [k for k in mro if is_pipecat(k)]
        for k in (cls, *mro) if cls is not None and pipecat else ():
            combined[k] = list(dict.fromkeys([*combined.get(k, []), *pipecat]))
    for path, node, cls, mro in product_classes():
        if skip_pending and str(path.relative_to(REPO)).startswith(NOT_YET_LISTED):
            continue
        pipecat = combined.get(cls, []) if cls is not None else []
        if bases := pipecat or [k for k in mro if is_pipecat(k)]:
            yield path, node, bases


def listed_for(name: str, classes: list[type]) -> bool:
    owners = {f"{k.__module__}:{k.__qualname__}" for k in classes}
    return any(e.name == name and e.owner in owners for e in PIPECAT_INTERNALS)


def pipecat_names(bases: list[type]) -> dict[str, type]:
    """Private names these Pipecat classes define or assign on self, each with its owner."""
    theirs: dict[str, type] = {}
    for k in bases:  # MRO order: the nearest class that has it names the owner
        for name in assigned_on_self(k) | set(vars(k)):
            if is_private(name):
                theirs.setdefault(name, k)
    return theirs


def unlisted_overrides() -> list[str]:
    unlisted = []
    for path, node, bases in pipecat_subclasses():
        for item in node.body:
            if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            owners = [k for k in bases if item.name in vars(k)]
            if is_private(item.name) and owners and not listed_for(item.name, bases):
                where = f"{path.relative_to(REPO)}:{item.lineno}"
                owner = f"{owners[0].__module__}:{owners[0].__qualname__}"
                unlisted.append(f"{where}: {node.name} overrides {owner}.{item.name}")
    return sorted(unlisted)


def test_every_override_of_a_private_pipecat_method_is_listed():
    unlisted = unlisted_overrides()
    assert not unlisted, f"add to {LIST_MODULE}:\n" + "\n".join(unlisted)


def unlisted_attributes() -> list[str]:
    unlisted = set()
    for path, node, bases in pipecat_subclasses():
        theirs = pipecat_names(bases)
        for sub in ast.walk(node):
            if not isinstance(sub, ast.Attribute) or not is_private(sub.attr):
                continue
            on_self = isinstance(sub.value, ast.Name) and sub.value.id == "self"
            on_super = isinstance(sub.value, ast.Call) and ast.unparse(sub.value) == "super()"
            if (on_self or on_super) and sub.attr in theirs and not listed_for(sub.attr, bases):
                owner = f"{theirs[sub.attr].__module__}:{theirs[sub.attr].__qualname__}"
                unlisted.add(f"{path.relative_to(REPO)}: {node.name} uses {owner}.{sub.attr}")
    return sorted(unlisted)


def test_every_private_pipecat_attribute_our_subclasses_touch_is_listed():
    unlisted = unlisted_attributes()
    advice = f"add to {LIST_MODULE} (or rename ours where it only shadows Pipecat's)"
    assert not unlisted, "\n".join([f"{advice}:", *unlisted])


def our_own_private_names() -> set[str]:
    """Every private name our code defines (functions, classes, variables, `self.` attributes),
    less those our subclasses inherit from Pipecat: a `self._websocket` our Realtime service
    writes is still Pipecat's name when another module reads it on the service."""
    names = set()
    for top in (*PRODUCT, "sim"):
        path = REPO / top
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            for n in ast.walk(ast.parse(file.read_text())):
                if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    names.add(n.name)
                elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store):
                    names.add(n.id)
                elif isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store):
                    if isinstance(n.value, ast.Name) and n.value.id in ("self", "cls"):
                        names.add(n.attr)
                elif isinstance(n, ast.alias):
                    names.add(n.asname or n.name.split(".")[-1])
    inherited = set()
    for _path, _node, bases in pipecat_subclasses(skip_pending=False):
        inherited |= set(pipecat_names(bases))
    return {name for name in names if is_private(name)} - inherited


def unlisted_elsewhere() -> list[str]:
    ours = our_own_private_names()
    listed = {e.name for e in PIPECAT_INTERNALS}
    unlisted = []
    for path in product_files():
        for n in ast.walk(ast.parse(path.read_text())):
            if isinstance(n, ast.Attribute) and is_private(n.attr):
                target, name = ast.unparse(n.value), n.attr
            elif (
                isinstance(n, ast.Call)
                and isinstance(n.func, ast.Name)
                and n.func.id in ("getattr", "hasattr", "setattr", "delattr")
                and len(n.args) >= 2
                and isinstance(n.args[1], ast.Constant)
                and isinstance(n.args[1].value, str)
                and is_private(n.args[1].value)
            ):
                target, name = ast.unparse(n.args[0]), n.args[1].value
            else:
                continue
            if target in ("self", "cls", "super()") or name in ours or name in listed:
                continue
            if f"{target}|{name}" not in NOT_PIPECAT:
                unlisted.append(f"{path.relative_to(REPO)}:{n.lineno}: {target}.{name}")
    return unlisted


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
    monkeypatch.setattr(sys.modules[__name__], "PIPECAT_INTERNALS", stripped)
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
