"""Graceful shutdown (§6.7): readiness flips at once, in-flight requests finish, the process exits 0."""

from __future__ import annotations

import concurrent.futures
import signal
import time
from typing import Any

import pytest

from req1_server.appkeys import RUNTIME


def in_flight(server: Any) -> float:
    """Requests in flight besides the /metrics scrape asking."""
    import urllib.request

    with urllib.request.urlopen(server.url + "/metrics", timeout=5) as resp:  # noqa: S310 - http only
        for line in resp.read().decode().splitlines():
            if line.startswith("req1_http_requests_in_flight "):
                return float(line.split()[1]) - 1
    return 0.0


def wait_until(predicate: Any, what: str, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_slow_request(server_env: dict[str, str], spawn_server: Any, sig: int) -> None:
    server = spawn_server({**server_env, "SHUTDOWN_TIMEOUT_SECONDS": "20"})
    pid = server.process.pid
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(server.get, "/api/v1/_test/slow?ms=1500")
        wait_until(lambda: in_flight(server) >= 1, "the slow request to be in flight")
        server.process.popen.send_signal(sig)
        status, body = slow.result(timeout=30)
    assert status == 200 and body == {"slept_ms": 1500}
    assert server.process.popen.wait(timeout=30) == 0, server.log()
    log = server.log()
    assert "draining" in log and "req1 server stopped" in log
    assert pid is not None


def test_drain_timeout_cancels_the_rest(server_env: dict[str, str], spawn_server: Any) -> None:
    server = spawn_server({**server_env, "SHUTDOWN_TIMEOUT_SECONDS": "1"})
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(server.get, "/api/v1/_test/slow?ms=60000")
        wait_until(lambda: in_flight(server) >= 1, "the slow request to be in flight")
        server.process.popen.send_signal(signal.SIGTERM)
        assert server.process.popen.wait(timeout=30) == 0, server.log()
        with pytest.raises(Exception):  # noqa: B017 - the connection is cut, any client error will do
            slow.result(timeout=30)


async def test_readiness_reports_shutting_down(client: Any, app: Any) -> None:
    app[RUNTIME].shutting_down = True
    resp = await client.get("/health/ready")
    assert resp.status == 503
    assert (await resp.json())["status"] == "shutting_down"
    assert (await client.get("/health/live")).status == 200
