"""Finds named classes by scanning a package's modules: the built-in processors and the
built-in tools are both found this way (drop a file in the folder and it is found)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def discover_named_classes(
    package: str, base: type[T], name_of: Callable[[type[T]], str | None], what: str
) -> dict[str, type[T]]:
    """Every subclass of ``base`` with a name, defined in a module (not a subpackage) of
    ``package``, by that name. Built fresh on each call: a value, not a process-wide registry.

    Raises:
        TypeError: two classes claim the same name.
    """
    found: dict[str, type[T]] = {}
    for info in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if info.ispkg:
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        for _attr, cls in inspect.getmembers(module, inspect.isclass):
            if cls is base or not issubclass(cls, base) or cls.__module__ != module.__name__:
                continue
            name = name_of(cls)
            if not name:
                continue
            if name in found:
                raise TypeError(f"{what} name {name!r} is defined twice")
            found[name] = cls
    return found
