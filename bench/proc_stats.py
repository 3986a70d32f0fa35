"""CPU time and resident memory of a process and its children, read from /proc (Linux)."""

import os
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    # The command name is in parentheses and may hold spaces; fields resume after ')'.
    return text[text.rindex(")") + 2 :].split()


def process_tree(pid: int) -> list[int]:
    """`pid` and every descendant (uvicorn workers, multiprocessing helpers)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(_stat_fields(int(entry.name))[1])
            except (OSError, ValueError, IndexError):
                continue
    tree, frontier = [pid], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        tree += children
        frontier = children
    return tree


@dataclass
class Usage:
    cpu_s: float
    rss_mb: float


def usage(pid: int) -> Usage:
    cpu = rss = 0.0
    for member in process_tree(pid):
        try:
            fields = _stat_fields(member)
        except OSError:
            continue
        cpu += (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
        rss += int(fields[21]) * PAGE / 2**20
    return Usage(cpu_s=cpu, rss_mb=rss)
