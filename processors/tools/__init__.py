"""Tools the model can call, by name, and the processors that carry them out.

One file per tool (a :class:`processors.tools.base.Tool` subclass); a profile's ``tools:``
list picks them. See docs/tools.md. This package ``__init__`` stays import-free so that
``bot.config.profiles`` can import :mod:`bot.config.tools` without pulling in Pipecat.
"""
