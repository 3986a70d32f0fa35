"""Layers point down only: config → processors → pipelines → bot → runner.

A module may import our own modules from its own layer or a lower one. `sim/` (the wire-level
emulators) stands beside the product and imports none of it, so other projects can use it
alone; the product reaches into `sim/` only through the offline switch. `bench/` and the
tests sit above everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("bot", "pipelines", "processors", "runner")
# Longest prefix first: bot.config is the bottom layer even though it lives inside bot/.
LAYERS = (("bot.config", 0), ("processors", 1), ("pipelines", 2), ("bot", 3), ("runner", 4))
LAYER_NAMES = {0: "config (bot/config)", 1: "processors", 2: "pipelines", 3: "bot", 4: "runner"}
OFFLINE_SWITCH = "bot.realtime.endpoint"


def layer_of(module: str) -> int | None:
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    return None


def module_name(root: Path, path: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> list[tuple[int, str]]:
    """Every absolute import in the file, lazy and TYPE_CHECKING ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(root: Path) -> list[str]:
    """One line per import that points the wrong way: file, line, what it imports, and why."""
    problems = []
    files = [
        p for top in ("bot", "pipelines", "processors", "sim") for p in (root / top).rglob("*.py")
    ]
    files += [root / "runner.py"] if (root / "runner.py").exists() else []
    for path in sorted(files):
        importer = module_name(root, path)
        for line, target in imports_of(path):
            problem = _check(importer, target)
            if problem:
                problems.append(f"{path.relative_to(root)}:{line}: imports {target}: {problem}")
    return problems


def _check(importer: str, target: str) -> str | None:
    target_top = target.split(".")[0]
    if importer.split(".")[0] == "sim":
        if target_top in PRODUCT:
            return "sim/ stands beside the product and must not import it"
        return None
    if target_top == "sim":
        if importer != OFFLINE_SWITCH:
            return f"only the offline switch ({OFFLINE_SWITCH}) reaches into sim/"
        return None
    mine, theirs = layer_of(importer), layer_of(target)
    if mine is None or theirs is None or theirs <= mine:
        return None
    return f"{LAYER_NAMES[mine]} must not import from {LAYER_NAMES[theirs]} (layers point down)"


def test_every_import_points_down():
    assert violations(REPO) == []


@pytest.mark.parametrize(
    ("planted", "source", "expected"),
    [
        (
            "processors/planted.py",
            "from pipelines.composer import PipelineSlots\n",
            "processors/planted.py:1: imports pipelines.composer: processors must not import "
            "from pipelines (layers point down)",
        ),
        (
            "bot/config/planted.py",
            "def lazy():\n    from processors.base import ProfileProcessor\n",
            "bot/config/planted.py:2: imports processors.base: config (bot/config) must not "
            "import from processors (layers point down)",
        ),
        (
            "pipelines/planted.py",
            "import bot.call.record\n",
            "pipelines/planted.py:1: imports bot.call.record: pipelines must not import from bot",
        ),
        (
            "sim/planted.py",
            "from bot.config.settings import Settings\n",
            "sim/planted.py:1: imports bot.config.settings: sim/ stands beside the product",
        ),
        (
            "bot/call/planted.py",
            "from sim.realtime import RealtimeEmulator\n",
            "bot/call/planted.py:1: imports sim.realtime: only the offline switch",
        ),
    ],
)
def test_a_planted_upward_import_is_named(tmp_path, planted, source, expected):
    for top in ("bot/config", "bot/call", "processors", "pipelines", "sim"):
        (tmp_path / top).mkdir(parents=True, exist_ok=True)
    (tmp_path / "pipelines" / "composer.py").write_text("from processors.base import X\n")
    (tmp_path / planted).write_text(source)
    found = violations(tmp_path)
    assert len(found) == 1
    assert found[0].startswith(expected)


def test_same_layer_and_downward_imports_are_allowed(tmp_path):
    (tmp_path / "bot" / "rooms").mkdir(parents=True)
    (tmp_path / "bot" / "rooms" / "spec.py").write_text(
        "from bot.call.tool_kit import ToolKit\nfrom pipelines.composer import PipelineSlots\n"
        "from bot.config.profiles import Profile\n"
    )
    assert violations(tmp_path) == []
