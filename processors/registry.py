"""Finds a profile processor's class by the name a profile lists.

Three places, in this order:

1. built-ins: every :class:`ProfileProcessor` subclass with a ``processor_name`` defined in a
   module of the ``processors`` package (drop a file there and it is found);
2. entry points in the group ``realtime_voice_bot.processors`` (an installed package
   declares ``my_meter = "mypkg.meters:CrossTalkMeter"``);
3. a dotted path to any importable class: ``mypkg.meters:CrossTalkMeter`` or
   ``mypkg.meters.CrossTalkMeter``.

The registry is a value built on demand, not a process-wide singleton.
"""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import EntryPoint, entry_points

from processors.base import ProfileProcessor
from processors.discovery import discover_named_classes

ENTRY_POINT_GROUP = "realtime_voice_bot.processors"


def discover_builtin_processors(package: str = "processors") -> dict[str, type[ProfileProcessor]]:
    """Every named :class:`ProfileProcessor` defined in a module (not subpackage) of ``package``.

    Raises:
        TypeError: two classes claim the same name.
    """
    return discover_named_classes(
        package, ProfileProcessor, lambda cls: cls.processor_name, "processor"
    )


def looks_like_path(name: str) -> bool:
    return ":" in name or "." in name


def import_processor_class(path: str) -> type[ProfileProcessor]:
    """The class at ``module:Class`` or ``module.Class``.

    Raises:
        ValueError: one line saying what is missing or wrong.
    """
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ValueError(f"{path!r} is not a dotted path (write module.path:ClassName)")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import module {module_name!r}: {exc}") from None
    cls = getattr(module, attr, None)
    if cls is None:
        raise ValueError(f"module {module_name!r} has no attribute {attr!r}")
    return _check_class(cls, path)


def _check_class(cls: object, where: str) -> type[ProfileProcessor]:
    if not (inspect.isclass(cls) and issubclass(cls, ProfileProcessor)):
        raise ValueError(f"{where} is not a ProfileProcessor subclass (see docs/processors.md)")
    return cls


class ProcessorRegistry:
    """Built-ins and entry points, looked up lazily; dotted paths are imported on demand."""

    def __init__(self, package: str = "processors", group: str = ENTRY_POINT_GROUP):
        self._package = package
        self._group = group
        self._builtins: dict[str, type[ProfileProcessor]] | None = None
        self._entry_points: dict[str, EntryPoint] | None = None

    @property
    def builtins(self) -> dict[str, type[ProfileProcessor]]:
        if self._builtins is None:
            self._builtins = discover_builtin_processors(self._package)
        return self._builtins

    @property
    def entry_points(self) -> dict[str, EntryPoint]:
        if self._entry_points is None:
            self._entry_points = {ep.name: ep for ep in entry_points(group=self._group)}
        return self._entry_points

    def names(self) -> list[str]:
        return sorted({*self.builtins, *self.entry_points})

    def resolve(self, name: str) -> type[ProfileProcessor]:
        """The class a profile's ``name`` refers to.

        Raises:
            ValueError: unknown name (listing the known ones), ambiguous name, bad path.
        """
        builtin = self.builtins.get(name)
        entry = self.entry_points.get(name)
        if builtin is not None and entry is not None:
            raise ValueError(
                f"{name!r} is both a built-in processor and the entry point {entry.value!r}; "
                "rename the entry point"
            )
        if builtin is not None:
            return builtin
        if entry is not None:
            try:
                loaded = entry.load()
            except Exception as exc:  # a broken plug-in must name itself, whatever it raised
                raise ValueError(
                    f"entry point {name!r} ({entry.value}) failed to load: "
                    f"{type(exc).__name__}: {exc}"
                ) from None
            return _check_class(loaded, f"entry point {name!r} ({entry.value})")
        if looks_like_path(name):
            return import_processor_class(name)
        raise ValueError(
            f"unknown processor {name!r}; available: {', '.join(self.names()) or '(none)'}; "
            "or give a dotted path (mypkg.module:ClassName)"
        )
