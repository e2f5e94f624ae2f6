"""The tool bridge over comm messages: the dispatcher shared with the socket transport,
on a kernel of a real kernelgateway (the full suite of tool behaviour runs over both
transports in test_runtime_bridge.py)."""

from __future__ import annotations

import pytest
from gateway_helpers import remote_config

from codeact.runtime import Session
from codeact.runtime.comm_bridge import COMM_TARGET, CommBridge

pytest.importorskip("kernel_gateway", reason="needs the gateway extra")


def test_calls_arrive_as_comm_messages_and_share_the_dispatcher(gateway):
    seen: list[str] = []

    def note(text: str) -> str:
        """Record text on the host."""
        seen.append(text)
        return text[::-1]

    with Session(remote_config(gateway), tools=[note]) as s:
        bridge = s._kernel.bridge
        assert isinstance(bridge, CommBridge)
        obs = s.execute("[note(w) for w in ('abc', 'de')]")
        assert obs.result == "['cba', 'ed']" and seen == ["abc", "de"]
        assert bridge.calls == 2


def test_comm_messages_of_other_comms_are_ignored(gateway):
    with Session(remote_config(gateway)) as s:
        bridge = s._kernel.bridge
        code = ("from comm import create_comm\n"
                "c = create_comm(target_name='someone.else')\n"
                "c.send({'id': 1, 'line': '{\"tool\": \"x\"}'})\n"
                f"assert {COMM_TARGET!r} == 'codeact.bridge'\n1")
        assert s.execute(code).result == "1"
        assert bridge.calls == 0
