"""Helpers every benchmark under bench/ shares (run as ``python bench/bench_X.py``, so this
folder is on ``sys.path``)."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def mem_gib() -> float:
    """The machine's memory in GiB, for the figures' machine line (0.0 when unknown)."""
    with open("/proc/meminfo", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024 / 1024
    return 0.0
