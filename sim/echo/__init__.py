"""Echo-gate scenarios: the bot's speech through synthetic echo paths, with labelled barge-ins."""

from sim.echo.paths import EchoPathSpec
from sim.echo.scenarios import Scenario, build_scenarios, load_scenario, load_scenarios

__all__ = ["EchoPathSpec", "Scenario", "build_scenarios", "load_scenario", "load_scenarios"]
