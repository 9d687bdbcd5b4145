"""The native local stack behind ``make up`` / ``make down``: no Docker, no Kubernetes.

PostgreSQL primary and a streaming replica, Redis and SeaweedFS run under ``--dir`` (default
``.run/stack``) from the same classes the tests use. Credentials are generated once and kept in
``stack.json`` so that ``make up`` twice reuses the running services and ``make down`` stops exactly
the PIDs recorded there. Then ``req1-server migrate`` applies migrations and seeds the admin and the
demo workspace, and ``req1-server serve`` runs natively (port 8080 when free) serving web/dist.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from req1_testenv.postgres import PostgresServer
from req1_testenv.process import ManagedProcess, ServiceStartError, free_port, log_tail, pid_alive, port_open, stop_pid
from req1_testenv.redis import RedisServer
from req1_testenv.seaweedfs import SeaweedS3

STATE_FILE = "stack.json"
DEFAULT_SERVER_PORT = 8080
ADMIN_EMAIL = "admin@localhost"
REPO_ROOT = Path(__file__).resolve().parents[2]


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


def server_binary() -> str:
    """The req1-server console script of this interpreter's environment."""
    beside = Path(sys.executable).parent / "req1-server"
    return str(beside) if beside.exists() else "req1-server"


def server_env(state: dict[str, Any]) -> dict[str, str]:
    """Environment of the natively run req1 server (secrets from stack.json, demo data on)."""
    env = {
        **state["env"],
        "APP_ENV": "development",
        "JWT_SECRET": state["jwt_secret"],
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": state["admin_password"],
        "PORT": str(state["server_port"]),
        "SEED_DEMO_DATA": "true",
        "LOG_FORMAT": "json",
    }
    dist = REPO_ROOT / "web" / "dist"
    if (dist / "index.html").exists():
        env["STATIC_DIR"] = str(dist)
    return env


def server_answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


def pick_server_port(state: dict[str, Any], preferred: int = DEFAULT_SERVER_PORT) -> int:
    """The port recorded before, else ``preferred`` (8080) when free, else any free port (0 = any)."""
    for candidate in (state.get("server_port"), preferred):
        if candidate and not port_open(int(candidate)):
            return int(candidate)
    return free_port()


def start_server(root: Path, state: dict[str, Any], preferred_port: int = DEFAULT_SERVER_PORT) -> ManagedProcess:
    """Migrate and seed, then start (or find running) ``req1-server serve``."""
    workdir = root / "server"
    process = ManagedProcess("req1-server", [server_binary(), "serve"], workdir, timeout=90)
    if process.running() and state.get("server_port") and server_answers(int(state["server_port"])):
        return process
    state["server_port"] = pick_server_port(state, preferred_port)
    env = server_env(state)
    workdir.mkdir(parents=True, exist_ok=True)
    migrate_log = workdir / "migrate.log"
    with migrate_log.open("ab") as log:
        done = subprocess.run([server_binary(), "migrate"], env={**os.environ, **env}, stdout=log,
                              stderr=subprocess.STDOUT, cwd=workdir, check=False, timeout=300)
    if done.returncode != 0:
        raise ServiceStartError(f"req1-server migrate failed ({done.returncode}); last lines of {migrate_log}:\n"
                                f"{log_tail(migrate_log)}")
    port = state["server_port"]
    process = ManagedProcess("req1-server", [server_binary(), "serve"], workdir, env=env,
                             ready=lambda: server_answers(port), timeout=90)
    process.start()
    return process


def stop_all(root: Path) -> list[str]:
    """Stop every PID recorded under root, newest services first.

    Only the ``<service>/<name>.pid`` files ManagedProcess writes: PostgreSQL's own ``postmaster.pid``
    deeper in its data directory is not ours to read or remove.
    """
    stopped = []
    for pid_file in sorted(root.glob("*/*.pid"), key=lambda p: p.stat().st_mtime, reverse=True):
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
    parser.add_argument("--server-port", type=int, default=DEFAULT_SERVER_PORT,
                        help="port for req1-server when free (0: any free port)")
    args = parser.parse_args(argv)
    root: Path = args.dir.resolve()
    if args.command == "down":
        stopped = stop_all(root)
        print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
        return 0
    if args.command == "env":
        state = load_state(root)
        env = server_env(state) if "server_port" in state else state.get("env", {})
        for key, value in env.items():
            print(f"{key}={value}")
        return 0
    try:
        state = start_services(root)
        start_server(root, state, args.server_port)
        save_state(root, state)
    except ServiceStartError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for key, value in state["env"].items():
        print(f"{key}={value}")
    url = f"http://localhost:{state['server_port']}"
    ui = "web UI and API" if "STATIC_DIR" in server_env(state) else "API only (web/dist not built)"
    print(f"\nreq1 is running: {url}  ({ui})")
    print(f"login: {ADMIN_EMAIL} / {state['admin_password']}")
    print(f"server log: {root / 'server' / 'req1-server.log'}   stop everything: make down")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
