"""`make bench`: every benchmark, each printing JSON lines."""

import json

from bench.echo import main as echo_main
from bench.load import main as load_main
from bot.event_loop import run_event_loop

if __name__ == "__main__":
    print(json.dumps(echo_main(["--build"])))
    for row in run_event_loop(
        load_main([1, 20, 40, 60, 80, 100, 120, 140], ["ours-fast", "ours-full", "baseline"])
    ):
        print(json.dumps({"bench": "load", **row}))
