"""Loopback ports for the tests' clusters that other programs are unlikely to take first.

Binding port 0 and closing the socket again returns a port from the kernel's ephemeral
range, which it also hands to every outgoing connection; on a busy machine another test's
client socket can take that port before the party listens on it ("address already in use").
``free_ports`` draws from the ports below the ephemeral range instead (the same rule as the
Go tests' ``gocore/net/freeport``) and checks that each can be bound.
"""

from __future__ import annotations

import random
import socket

LOWEST = 20000  # below it lie many registered services' ports


def _ephemeral_start() -> int:
    try:
        lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768
    return lo if lo > LOWEST + 1000 else 32768


def free_ports(n: int) -> list[int]:
    """n distinct loopback ports outside the ephemeral range that could be bound just now."""
    hi, ports = _ephemeral_start(), []
    for _ in range(200 * n):
        if len(ports) == n:
            return ports
        port = random.randrange(LOWEST, hi)
        if port in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
    raise RuntimeError(f"no {n} free ports in [{LOWEST}, {hi})")
