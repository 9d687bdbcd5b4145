"""The native local stack behind ``make up`` / ``make down``: no Docker, no Kubernetes.

PostgreSQL primary and a streaming replica, Redis and SeaweedFS run under ``--dir`` (default
``.run/stack``) from the same classes the tests use. Credentials are generated once and kept in
``stack.json`` so that ``make up`` twice reuses the running services and ``make down`` stops exactly
the PIDs recorded there.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path
from typing import Any

from req1_testenv.postgres import PostgresServer
from req1_testenv.process import ServiceStartError, pid_alive, stop_pid
from req1_testenv.redis import RedisServer
from req1_testenv.seaweedfs import SeaweedS3

STATE_FILE = "stack.json"


def load_state(root: Path) -> dict[str, Any]:
    path = root / STATE_FILE
    if path.exists():
        data: dict[str, Any] = json.loads(path.read_text())
        return data
    return {}


def save_state(root: Path, state: dict[str, Any]) -> None:
    path = root / STATE_FILE
    path.write_text(json.dumps(state, indent=2))
    path.chmod(0o600)


def new_state() -> dict[str, Any]:
    return {
        "pg_password": secrets.token_urlsafe(16),
        "pg_replication_password": secrets.token_urlsafe(16),
        "s3_access_key": "req1" + secrets.token_hex(6),
        "s3_secret_key": secrets.token_urlsafe(24),
        "jwt_secret": secrets.token_urlsafe(48),
        "admin_password": secrets.token_urlsafe(12),
    }


def start_services(root: Path) -> dict[str, Any]:
    """Start (or find running) every data service and return the state with their addresses."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o711)
    state = load_state(root) or new_state()
    primary = PostgresServer(root / "postgres", port=state.get("pg_port", 0),
                             password=state["pg_password"],
                             replication_password=state["pg_replication_password"])
    state["pg_port"] = primary.port
    if not primary.process.running():
        primary.start()
    replica = PostgresServer(root / "postgres-replica", port=state.get("pg_replica_port", 0),
                             password=state["pg_password"], name="postgres-replica",
                             replication_password=state["pg_replication_password"])
    state["pg_replica_port"] = replica.port
    if not replica.process.running():
        if (replica.data_dir / "PG_VERSION").exists():
            replica.start()
        else:
            replica = primary.start_replica(root / "postgres-replica")
            state["pg_replica_port"] = replica.port
    if "req1" not in primary.psql("SELECT datname FROM pg_database").split():
        primary.create_database("req1")
    redis = RedisServer(root / "redis", port=state.get("redis_port", 0))
    state["redis_port"] = redis.port
    if not redis.running():
        redis.start()
    s3 = SeaweedS3(root / "seaweedfs", s3_port=state.get("s3_port", 0),
                   access_key=state["s3_access_key"], secret_key=state["s3_secret_key"])
    state["s3_port"] = s3.s3_port
    if not s3.process.running():
        s3.start()
    state["env"] = {
        "DATABASE_URL": primary.dsn_for("req1"),
        "DATABASE_REPLICA_URL": replica.dsn_for("req1"),
        "REDIS_URL": redis.url,
        **s3.env(),
    }
    save_state(root, state)
    return state


def stop_all(root: Path) -> list[str]:
    """Stop every PID recorded under root, newest services first."""
    stopped = []
    for pid_file in sorted(root.glob("**/*.pid"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            pid = int(pid_file.read_text().strip())
        except ValueError:
            pid_file.unlink(missing_ok=True)
            continue
        if pid_alive(pid):
            stop_pid(pid, timeout=30)
            stopped.append(pid_file.stem)
        pid_file.unlink(missing_ok=True)
    return stopped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="req1-stack", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "env"])
    parser.add_argument("--dir", type=Path, default=Path(".run/stack"))
    args = parser.parse_args(argv)
    root: Path = args.dir.resolve()
    if args.command == "down":
        stopped = stop_all(root)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    if args.command == "env":
        for key, value in load_state(root).get("env", {}).items():
            print(f"{key}={value}")
        return 0
    try:
        state = start_services(root)
    except ServiceStartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for key, value in state["env"].items():
        print(f"{key}={value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
