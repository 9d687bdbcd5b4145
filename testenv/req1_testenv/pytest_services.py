"""pytest fixtures for the real data-plane services: PostgreSQL, Redis and SeaweedFS S3.

One server of each per test session (they start in about a second each); every test gets its own
database, Redis logical database and S3 bucket, so tests stay independent without paying a start each.
"""

from __future__ import annotations

import itertools
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from req1_testenv.postgres import PostgresServer
from req1_testenv.redis import RedisServer
from req1_testenv.scratch import remove_tree, scratch_dir
from req1_testenv.seaweedfs import SeaweedS3

REDIS_TEST_DBS = itertools.cycle(range(1, 16))


@pytest.fixture(scope="session")
def services_root() -> Iterator[Path]:
    """Root folder for this session's service data; removed after the session."""
    root = scratch_dir("services")
    yield root
    remove_tree(root)


@pytest.fixture(scope="session")
def pg_server(services_root: Path) -> Iterator[PostgresServer]:
    server = PostgresServer(services_root / "postgres").start()
    yield server
    server.stop()


@pytest.fixture
def pg_dsn(pg_server: PostgresServer) -> Iterator[str]:
    """DSN of a fresh, empty database for this test only."""
    name = f"t_{uuid.uuid4().hex[:16]}"
    dsn = pg_server.create_database(name)
    yield dsn
    pg_server.drop_database(name)


@pytest.fixture(scope="session")
def redis_server(services_root: Path) -> Iterator[RedisServer]:
    server = RedisServer(services_root / "redis").start()
    yield server
    server.stop()


def flush_redis_db(port: int, db: int) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(f"*2\r\n$6\r\nSELECT\r\n${len(str(db))}\r\n{db}\r\n*1\r\n$7\r\nFLUSHDB\r\n".encode())
        received = b""
        while received.count(b"\r\n") < 2:
            chunk = sock.recv(64)
            if not chunk:
                break
            received += chunk


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    """URL of an emptied Redis logical database (1-15, rotating) for this test."""
    if not redis_server.running():
        redis_server.start()
    db = next(REDIS_TEST_DBS)
    flush_redis_db(redis_server.port, db)
    return f"redis://127.0.0.1:{redis_server.port}/{db}"


@pytest.fixture(scope="session")
def s3_server(services_root: Path) -> Iterator[SeaweedS3]:
    server = SeaweedS3(services_root / "seaweedfs").start()
    yield server
    server.stop()


@dataclass(frozen=True)
class S3Bucket:
    """A fresh bucket on the session's SeaweedFS, with the env the req1 server reads."""

    server: SeaweedS3
    name: str

    def env(self) -> dict[str, str]:
        return {**self.server.env(), "S3_BUCKET": self.name}


@pytest.fixture
def s3_bucket(s3_server: SeaweedS3) -> S3Bucket:
    name = f"t-{uuid.uuid4().hex[:16]}"
    s3_server.create_bucket(name)
    return S3Bucket(s3_server, name)
