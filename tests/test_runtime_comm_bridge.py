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


def test_big_values_cross_in_parts_and_oversized_calls_are_refused(gateway):
    def blob(n: int) -> str:
        """n characters from the host."""
        return "é" * n

    def size(text: str) -> int:
        """Length of text, on the host."""
        return len(text)

    with Session(remote_config(gateway), tools=[blob, size]) as s:
        obs = s.execute("v = blob(6_000_000)\nlen(v), v[:2]")  # 12 MB of UTF-8, 6 parts
        assert obs.result == "(6000000, 'éé')" and s.alive, obs
        assert s.execute("size('é' * 4_000_000)").result == "4000000"  # 24 MB escaped
        obs = s.execute("size('x' * 5_000_000)")
        assert obs.error.name == "ValueError" and "at most 4 MB" in obs.error.message
        assert s.execute("size('ok')").result == "2"
