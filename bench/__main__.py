"""`make bench`: every benchmark, each printing JSON lines."""

import asyncio
import json

from bench.echo import main as echo_main
from bench.load import main as load_main

if __name__ == "__main__":
    print(json.dumps(echo_main(["--build"])))
    for row in asyncio.run(load_main([1, 10, 20, 40, 60, 80, 100, 120], ["ours", "baseline"])):
        print(json.dumps({"bench": "load", **row}))
