"""Load benchmark of the req1 platform layer: requests/s and p50/p99 latency.

Starts its own PostgreSQL and Redis (testenv classes) and one real ``req1-server serve`` process with
production-like settings (JSON access log, rate limiting on with a high limit so the Redis INCR still
runs), then drives it with an aiohttp client at fixed concurrency for a fixed time per scenario:

- ``GET /health/live`` — the HTTP stack and middlewares only;
- ``GET /api/v1/auth/me`` — JWT verify + revocation check (Redis) + rate limit (Redis) + user load (PostgreSQL);
- ``GET /api/v1/users`` — the same plus a paged list query.

Client and server share the machine, so the figures are a floor for the server alone.
Usage: ``.venv/bin/python bench/platform/run.py [--seconds 10] [--concurrency 32]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import urllib.request
from pathlib import Path

import aiohttp

from req1_testenv.postgres import PostgresServer
from req1_testenv.process import ManagedProcess, free_port
from req1_testenv.redis import RedisServer
from req1_testenv.scratch import remove_tree, scratch_dir

ADMIN_PASSWORD = "bench-admin-password"


def percentile(sorted_values: list[float], fraction: float) -> float:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


WARMUP_SECONDS = 3.0


async def drive(url: str, headers: dict[str, str], seconds: float, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker(deadline: float, record: bool) -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with session.get(url, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                if record:
                    latencies.append(time.perf_counter() - started)

        # warm-up at full concurrency, not recorded: client connections, the DB pool (SCRAM logins), caches
        warm_until = time.perf_counter() + WARMUP_SECONDS
        await asyncio.gather(*(worker(warm_until, False) for _ in range(concurrency)))
        errors = 0
        began = time.perf_counter()
        await asyncio.gather(*(worker(began + seconds, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "requests": len(latencies),
        "errors": errors,
        "rps": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
    }


def login(base: str) -> str:
    request = urllib.request.Request(  # noqa: S310 - http to our own local server
        base + "/api/v1/auth/login",
        data=json.dumps({"email": "admin@localhost", "password": ADMIN_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310
        token: str = json.loads(resp.read())["token"]
    return token


def live(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--json", action="store_true", help="print the results as JSON only")
    args = parser.parse_args()

    root = scratch_dir("bench-platform")
    pg = PostgresServer(root / "postgres").start()
    redis = RedisServer(root / "redis").start()
    port = free_port()
    env = {
        "DATABASE_URL": pg.create_database("req1"),
        "REDIS_URL": redis.url,
        "JWT_SECRET": "bench-secret-" + "x" * 32,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PORT": str(port),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "info",
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "RATE_LIMIT_AUTH_PER_MINUTE": "1000",
    }
    server = ManagedProcess("req1-server", [str(Path(sys.executable).parent / "req1-server"), "serve"],
                            root / "server", env=env, ready=lambda: live(port), timeout=90)
    results: dict[str, dict[str, float]] = {}
    try:
        server.start()
        base = f"http://127.0.0.1:{port}"
        token = login(base)
        auth = {"Authorization": f"Bearer {token}"}
        scenarios = [
            ("GET /health/live", "/health/live", {}),
            ("GET /api/v1/auth/me", "/api/v1/auth/me", auth),
            ("GET /api/v1/users", "/api/v1/users", auth),
        ]
        for name, path, headers in scenarios:
            results[name] = asyncio.run(drive(base + path, headers, args.seconds, args.concurrency))
    finally:
        server.stop()
        redis.stop()
        pg.stop()
        remove_tree(root)

    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}")
    print(f"{args.concurrency} concurrent clients, {args.seconds:.0f} s per scenario, one server process\n")
    print(f"| {'scenario':<22} | {'requests/s':>10} | {'p50 ms':>7} | {'p99 ms':>7} | {'requests':>8} | errors |")
    print(f"|{'-' * 24}|{'-' * 12}|{'-' * 9}|{'-' * 9}|{'-' * 10}|--------|")
    for name, r in results.items():
        print(f"| {name:<22} | {r['rps']:>10.0f} | {r['p50_ms']:>7.2f} | {r['p99_ms']:>7.2f} | "
              f"{r['requests']:>8.0f} | {r['errors']:>6.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
