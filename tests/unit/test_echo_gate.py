"""The echo gate's configuration refuses what it cannot run."""

import pytest

from bot.config.echo import EchoGateConfig


@pytest.mark.parametrize("bad", [{"mode": "loud"}, {"preset": "chatty"}, {"open_ms": 5}])
def test_bad_config_is_refused(bad):
    with pytest.raises(ValueError):
        EchoGateConfig(**bad)
