"""Start-up refuses bad configuration with one line naming the key: the real runner.py, run
as a process, with a bad profile, environment, processor or tool."""

import subprocess
import sys
from pathlib import Path

import pytest

from sim.bot_process import REPO, bot_env

pytestmark = pytest.mark.e2e

DEFAULT_PROFILE = (REPO / "bot/profiles/default.yaml").read_text()


def start_runner(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "runner.py", "--transport", "twilio", "--port", "0", *args],
        cwd=REPO,
        env=bot_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("replace", "by", "key", "hint"),
    [
        ("turn_detection: natural", "turn_detection: chatty", "turn_detection", "low_latency"),
        ("voice: marin", "voice: robot", "voice", "marin"),
        ("voice: marin", "voice: marin\ntemperature: 0.8", "temperature", "remove"),
        (
            "voice: marin",
            "voice: marin\ninput_audio_format: g711_ulaw",
            "input_audio_format",
            "pcmu",
        ),
    ],
)
def test_bad_profile_stops_start_up_naming_the_key(tmp_path, replace, by, key, hint):
    profile = tmp_path / "bad.yaml"
    profile.write_text(DEFAULT_PROFILE.replace(replace, by))
    done = start_runner(tmp_path, "--profile", str(profile))
    assert done.returncode == 2
    last_line = done.stderr.strip().splitlines()[-1]
    assert last_line.startswith("config error:")
    assert key in last_line and hint in last_line


def test_bad_environment_stops_start_up_naming_the_variable(tmp_path):
    done = start_runner(tmp_path, OPENAI_REALTIME_URL="http://not-a-websocket")
    assert done.returncode == 2
    assert "OPENAI_REALTIME_URL" in done.stderr.strip().splitlines()[-1]


def test_runner_refuses_a_bad_processor_in_one_line(tmp_path):
    profile = tmp_path / "bad.yaml"
    # The shipped profile's own watchdog, with a timeout it refuses.
    assert "      timeout_s: 10\n" in DEFAULT_PROFILE
    profile.write_text(DEFAULT_PROFILE.replace("      timeout_s: 10\n", "      timeout_s: 0\n"))
    done = start_runner(tmp_path, "--profile", str(profile))
    assert done.returncode == 2
    [line] = done.stderr.strip().splitlines()[-1:]
    assert line.startswith("config error: profile default: processors[0].options.timeout_s:"), line


def test_unknown_tool_stops_the_runner_with_exit_2(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("instructions: x\ngreeting: hi\ntools: [launch_rockets]\n")
    proc = start_runner(tmp_path, "--profile", str(path))
    assert proc.returncode == 2
    assert "config error: profile bad: tools: unknown tool 'launch_rockets'" in proc.stderr
