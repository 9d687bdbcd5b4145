"""A real Redis 7 server (Debian's redis-server) on a free port, without persistence."""

from __future__ import annotations

import shutil
import socket
from dataclasses import dataclass
from pathlib import Path

from req1_testenv.process import ManagedProcess, ServiceStartError, free_port


def redis_ping(port: int) -> bool:
    """True when Redis answers PING on 127.0.0.1:port (raw RESP, no client library needed)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class RedisServer:
    """One redis-server process; ``stop()`` then ``start()`` reuses the same port (for outage tests)."""

    workdir: Path
    port: int = 0
    name: str = "redis"

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        if not self.port:
            self.port = free_port()
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceStartError("redis-server not found; run `make setup` (apt redis-server)")
        self.process = ManagedProcess(
            self.name,
            [
                binary,
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--dir", str(self.workdir),
                "--daemonize", "no",
                "--protected-mode", "yes",
            ],
            self.workdir,
            ready=lambda: redis_ping(self.port),
            timeout=30,
        )

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process.start()
        return self

    def stop(self) -> None:
        self.process.stop()

    def running(self) -> bool:
        return self.process.running()
