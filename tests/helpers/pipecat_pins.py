"""How the pins in `pipelines/pipecat_internals.py` are checked (for
`tests/unit/test_pipecat_internals.py`).

Each kind's check is described in that test's docstring.

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
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.pipecat_internals import PIPECAT_INTERNALS, Kind, PipecatInternal

REPO = Path(__file__).resolve().parents[2]


PRODUCT = ("bot", "pipelines", "processors", "runner.py")


# Folders the completeness checks skip (none: every folder's reach-ins are listed).
NOT_YET_LISTED: tuple[str, ...] = ()


LIST_MODULE = "pipelines/pipecat_internals.py"


# Private names of other libraries reached on other objects, as "<expression>|<name>" (the
# way the foreign-access check prints them), which it would otherwise ask to list as
# Pipecat's. `os._exit`: the drain's hard deadline exits from a timer thread without the
# event loop's teardown (bot/telephony/graceful.py).
NOT_PIPECAT: frozenset[str] = frozenset({"os|_exit"})


_MISSING = object()


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


def imports_in(path: Path) -> list[str]:
    return [
        ast.unparse(n)
        for n in ast.walk(ast.parse(path.read_text()))
        if isinstance(n, ast.Import | ast.ImportFrom)
    ]


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
