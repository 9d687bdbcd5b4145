"""Module grid benchmark: a fresh PostgreSQL, Redis and ``req1-server serve`` serving a fresh build of the
web UI, then ``web/e2e/bench-grid.mjs`` in headless Chromium (10,000 objects by default). Prints the
script's JSON and the machine. Figures go to docs/benchmarks.md; nothing here asserts on time.

    .venv/bin/python bench/web/bench_grid.py [--objects 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

from req1_testenv.postgres import PostgresServer
from req1_testenv.process import ManagedProcess, free_port
from req1_testenv.redis import RedisServer
from req1_testenv.scratch import remove_tree, scratch_dir

WEB = Path(__file__).resolve().parents[2] / "web"
ADMIN_PASSWORD = "bench-admin-password"


def live(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        print("needs Node.js and npm", file=sys.stderr)
        return 2
    root = scratch_dir("bench-web-grid")
    dist = root / "dist"
    subprocess.run([npm, "exec", "--", "vite", "build", "--outDir", str(dist), "--emptyOutDir", "--logLevel", "warn"],
                   cwd=WEB, check=True)
    pg = PostgresServer(root / "postgres").start()
    redis = RedisServer(root / "redis").start()
    port = free_port()
    env = {
        "DATABASE_URL": pg.create_database("req1"),
        "REDIS_URL": redis.url,
        "JWT_SECRET": "bench-secret-" + "x" * 32,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "STATIC_DIR": str(dist),
        "PORT": str(port),
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "warning",
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "RATE_LIMIT_AUTH_PER_MINUTE": "1000",
        "MAX_UPLOAD_BYTES": str(64 * 1024 * 1024),
    }
    server = ManagedProcess("req1-server", [str(Path(sys.executable).parent / "req1-server"), "serve"],
                            root / "server", env=env, ready=lambda: live(port), timeout=90)
    try:
        server.start()
        res = subprocess.run(
            [node, "e2e/bench-grid.mjs", "--base", f"http://127.0.0.1:{port}", "--email", "admin@localhost",
             "--password", ADMIN_PASSWORD, "--objects", str(args.objects), "--runs", str(args.runs)],
            cwd=WEB, capture_output=True, text=True, timeout=1800, check=False,
        )
        if res.returncode != 0:
            print(res.stdout, res.stderr, file=sys.stderr)
            return 1
        result = json.loads(res.stdout)
    finally:
        server.stop()
        redis.stop()
        pg.stop()
        remove_tree(root)
    load = os.getloadavg()
    result["machine"] = (f"{os.cpu_count()} cores, {platform.platform()}, "
                         f"load average {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f}")
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
