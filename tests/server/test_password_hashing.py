"""Password hashing under a burst (#13.2): argon2id needs 64 MiB per hash, so unauthenticated logins must not
run an unbounded number at once; beyond a short queue the server answers 503 at once instead of queueing."""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from typing import Any

import pytest

from req1_server.auth import passwords

BURST = 60


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count argon2 verifications running at the same moment (in the worker threads)."""
    seen = {"now": 0, "peak": 0, "total": 0}
    lock = threading.Lock()
    verify = passwords._verify_argon2

    def counted(password: str, hashed: str) -> bool:
        with lock:
            seen["now"] += 1
            seen["total"] += 1
            seen["peak"] = max(seen["peak"], seen["now"])
        try:
            return verify(password, hashed)
        finally:
            with lock:
                seen["now"] -= 1

    monkeypatch.setattr(passwords, "_verify_argon2", counted)
    return seen


async def test_login_burst_runs_a_bounded_number_of_hashes(client: Any, counting: dict[str, int]) -> None:
    async def attempt(n: int) -> tuple[int, float, str | None]:
        started = time.perf_counter()
        resp = await client.post("/api/v1/auth/login", json={"email": "admin@localhost", "password": f"wrong-{n:04d}"})
        await resp.read()
        return resp.status, time.perf_counter() - started, resp.headers.get("Retry-After")

    started = time.perf_counter()
    results = await asyncio.gather(*(attempt(n) for n in range(BURST)))
    wall = time.perf_counter() - started
    checked = sorted(t for s, t, _ in results if s == 401)
    refused = sorted(t for s, t, _ in results if s == 503)
    assert len(checked) >= 2
    print(f"\nburst of {BURST}: peak {counting['peak']} hashes at once, {len(checked)} checked "
          f"(median {statistics.median(checked):.3f}s, max {checked[-1]:.3f}s), {len(refused)} refused "
          f"(max {refused[-1] if refused else 0:.3f}s), wall {wall:.2f}s")
    statuses = [s for s, _, _ in results]
    assert set(statuses) <= {401, 503}, statuses
    assert all(retry == "1" for s, _, retry in results if s == 503)
    assert counting["peak"] <= 2, counting  # the default PASSWORD_HASH_CONCURRENCY
