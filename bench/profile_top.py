"""The top of a py-spy profile (`bench.load --py-spy DIR` writes collapsed stacks): the share
of samples by function, of its own (self) and with what it calls (inclusive), idle excluded.

    python -m bench.profile_top DIR/ours-fast-dense-100.raw [--top 30] [--match pipecat]
"""

import argparse
import re
from collections import Counter
from pathlib import Path

# The event loop waiting for I/O (uvloop's run has no Python frame below it): not work.
IDLE = ("Runner.run (asyncio/runners.py", "run (uvloop/__init__.py")


_LINE = re.compile(r":\d+\)$")


def summarise(path: Path) -> tuple[int, Counter, Counter]:
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not count.isdigit() or frames[-1].startswith(IDLE):
            continue
        total += int(count)
        # By function, not by line: "send (websockets/asyncio/connection.py)".
        frames = [_LINE.sub(")", f) for f in frames]
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    return total, own, inclusive


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument(
        "--match", default="", help="inclusive list: only frames matching this regex"
    )
    args = parser.parse_args(argv)
    total, own, inclusive = summarise(args.profile)
    print(f"busy samples: {total}")
    print("self:")
    for frame, n in own.most_common(args.top):
        print(f"  {100 * n / total:5.1f} %  {frame}")
    print("inclusive:")
    pattern = re.compile(args.match)
    shown = [(f, n) for f, n in inclusive.most_common() if pattern.search(f)][: args.top]
    for frame, n in shown:
        print(f"  {100 * n / total:5.1f} %  {frame}")


if __name__ == "__main__":
    main()
