"""The kernel protocol over a gateway's WebSocket, against a real kernelgateway: the
kernel's death and the connection's end reach the session as ``died`` with a reason."""

from __future__ import annotations

import pytest
from gateway_helpers import remote_config

from codeact.runtime import Session
from codeact.runtime._loop import run_sync
from codeact.runtime.gateway import GatewayError

pytest.importorskip("kernel_gateway", reason="needs the gateway extra")


def test_a_kernel_crash_on_a_healthy_gateway_is_a_death_not_a_lost_gateway(gateway):
    with Session(remote_config(gateway)) as s:
        k = s._kernel
        obs = s.execute("import os\nos._exit(1)")
        assert obs.restarted and "died on gateway" in obs.restart_reason
        assert k.client.lost is not None and "reported it" in k.client.lost
        assert not k.gateway.held_back  # the gateway is fine: no failover for a crash
        assert k.gateway_lost() is None
        assert s.execute("1+1").result == "2"


def test_closed_channels_refuse_to_send(gateway):
    with Session(remote_config(gateway)) as s:
        client = s._kernel.client
        assert client.connected
        run_sync(_close(client))
        assert not client.connected
        with pytest.raises(GatewayError, match="channels are closed"):
            client.post("shell", "kernel_info_request", {})


async def _close(client) -> None:
    client.close()


def test_a_message_over_the_limit_restarts_the_kernel_not_the_gateway(gateway):
    """A 40 MB display closes the WebSocket (our limit is 32 MB); the gateway still
    answers, so this is the kernel's loss (restarted, said so), not a failover."""
    with Session(remote_config(gateway)) as s:
        s.write_file("kept.txt", "yes")
        obs = s.execute("display({'image/png': 'A' * 40_000_000}, raw=True)")
        assert obs.restarted and "over 32 MB" in obs.restart_reason, obs
        assert not s._kernel.gateway.held_back
        assert s.execute("open('kept.txt').read()").result == "'yes'"
