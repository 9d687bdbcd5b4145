"""``req1-server serve`` with several worker processes (WEB_WORKERS=2) on the real services: both workers
answer on the one port, /metrics sums them, a killed worker is replaced, SIGTERM drains them all and the
server exits 0."""

from __future__ import annotations

import concurrent.futures
import os
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

PID_ROUTE = "/api/v1/_test/pid"


def wait_until(predicate: Any, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def metric_lines(server: Any) -> list[str]:
    with urllib.request.urlopen(server.url + "/metrics", timeout=10) as resp:  # noqa: S310 - http only
        return resp.read().decode().splitlines()


def in_flight(server: Any) -> float:
    """Requests in flight in all workers besides the /metrics scrape asking."""
    for line in metric_lines(server):
        if line.startswith("req1_http_requests_in_flight "):
            return float(line.split()[1]) - 1
    return 0.0


def workers_of(parent: int) -> set[int]:
    children: set[int] = set()
    for task in Path(f"/proc/{parent}/task").iterdir():
        try:
            children.update(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return children


def answer(server: Any) -> int:
    status, body = server.get(PID_ROUTE)  # a new connection each time: the kernel picks the worker
    assert status == 200, body
    return int(body["pid"])


def ask_until_seen(server: Any, wanted: set[int], attempts: int = 500) -> int:
    """Ask until every wanted worker has answered; the number of requests it took."""
    seen: set[int] = set()
    for n in range(1, attempts + 1):
        seen.add(answer(server))
        if wanted <= seen:
            return n
    raise AssertionError(f"workers {wanted - seen} never answered in {attempts} requests (saw {seen})")


def served(server: Any) -> float:
    """req1_http_requests_total of the pid route, as /metrics reports it (one worker answers the scrape)."""
    return sum(float(line.rsplit(" ", 1)[1]) for line in metric_lines(server)
               if line.startswith("req1_http_requests_total{") and f'route="{PID_ROUTE}"' in line)


def test_two_workers(server_env: dict[str, str], spawn_server: Any) -> None:
    server = spawn_server({**server_env, "WEB_WORKERS": "2", "SHUTDOWN_TIMEOUT_SECONDS": "20"})
    parent = server.process.popen.pid
    wait_until(lambda: len(workers_of(parent)) == 2, "two workers")
    first = workers_of(parent)
    assert parent not in first

    # both workers answer on the one port, and /metrics counts the requests of both whichever answers it
    asked = ask_until_seen(server, first)
    assert served(server) == asked
    assert served(server) == asked

    # a worker that dies is replaced; what it counted stays in the totals
    victim = sorted(first)[0]
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: len(workers_of(parent)) == 2 and victim not in workers_of(parent), "a new worker")
    second = workers_of(parent)
    asked += ask_until_seen(server, second)
    assert served(server) == asked
    assert "worker 0" in server.log() or "worker 1" in server.log()
    assert "restarting" in server.log()

    # SIGTERM to the parent: a request in flight still finishes, every worker exits, the server exits 0
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        slow = pool.submit(server.get, "/api/v1/_test/slow?ms=1500")
        wait_until(lambda: in_flight(server) >= 1, "the slow request to be in flight")
        server.process.popen.send_signal(signal.SIGTERM)
        status, body = slow.result(timeout=30)
    assert status == 200 and body == {"slept_ms": 1500}
    assert server.process.popen.wait(timeout=40) == 0, server.log()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in second) and time.monotonic() < deadline:
        time.sleep(0.05)  # the parent reaped them before exiting; /proc may lag a moment
    assert not any(Path(f"/proc/{pid}").exists() for pid in second)
    log = server.log()
    assert "draining 2 workers" in log and log.count("req1 server stopped") == 3, log
