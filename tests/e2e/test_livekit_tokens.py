"""The LiveKit side of the command line, run as the real runner.py: `livekit-token` prints a
token livekit-api verifies; missing or wrong credentials stop start-up with one line."""

import subprocess
import sys
import time

import jwt
import pytest
from livekit import api

pytestmark = pytest.mark.e2e

KEY = "devkey"
SECRET = "a-livekit-secret-that-is-32-bytes-long"


def expires_in(token: str) -> float:
    claims = jwt.decode(token, options={"verify_signature": False})
    return claims["exp"] - time.time()


def test_livekit_token_command_prints_a_verifiable_token(tmp_path):
    env = {"LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "runner.py", "livekit-token", "--room", "demo", "--identity", "bob"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    claims = api.TokenVerifier(KEY, SECRET).verify(done.stdout.strip())
    assert (claims.identity, claims.video.room) == ("bob", "demo")
    assert 59 * 60 < expires_in(done.stdout.strip()) <= 3600
    assert "meet.livekit.io" in done.stderr


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "config error: LIVEKIT_URL: not set"),
        ({"LIVEKIT_URL": "ws://127.0.0.1:9"}, "config error: LIVEKIT_API_KEY: not set"),
        (
            {"LIVEKIT_URL": "ws://127.0.0.1:9", "LIVEKIT_TOKEN": "not-a-token"},
            "config error: LIVEKIT_TOKEN: not a JWT",
        ),
    ],
)
def test_missing_or_wrong_credentials_stop_with_one_line(env, expected):
    done = subprocess.run(
        [sys.executable, "runner.py", "--transport", "livekit", "--room", "r1"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=60,
    )
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("config error")]
    assert len(errors) == 1 and errors[0].startswith(expected), done.stderr
