"""Build an echo-scenario set:

python -m sim.echo OUT_DIR [--count 48] [--late-echo 24] [--per-family 16] [--family NAME ...]
                           [--seed 7]
"""

import argparse

from sim.echo.families import FAMILIES, FAMILY_COUNT
from sim.echo.scenarios import LATE_ECHO_COUNT, build_scenarios

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out_dir")
    parser.add_argument("--count", type=int, default=48)
    parser.add_argument("--late-echo", type=int, default=LATE_ECHO_COUNT, help="late-echo family")
    parser.add_argument("--per-family", type=int, default=FAMILY_COUNT, help="of each family")
    parser.add_argument("--family", action="append", choices=sorted(FAMILIES), help="only these")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    families = tuple(args.family) if args.family else None
    paths = build_scenarios(
        args.out_dir, args.count, args.seed, args.late_echo, args.per_family, families
    )
    print(f"wrote {len(paths)} scenarios to {args.out_dir}")
