"""The rendered PostgreSQL configuration and scripts run for real (PostgreSQL 15 binaries, no containers):
postgresql.conf and pg_hba.conf load, init-roles.sh creates the app and replication roles, replica-bootstrap.sh
clones a streaming standby with pg_basebackup that becomes the synchronous (quorum) standby under its
cluster_name, app writes replicate, and the WAL archiving hook is callable by archive_command.

Only container paths and ports are adapted: the config directory is rewritten to a scratch directory and the
server listens on 127.0.0.1 and a free port, as it would on its pod IP and 5432.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from req1_operator.render import RenderInput, config
from req1_operator.spec import parse_spec
from req1_testenv.postgres import chown_tree, pg_bin, run_as_user
from req1_testenv.process import ManagedProcess, free_port
from req1_testenv.scratch import remove_tree, scratch_dir

pytestmark = pytest.mark.dataplane

APP_PASSWORD = "AppPassw0rd"
REPL_PASSWORD = "ReplPassw0rd"


def pg_env(extra: dict[str, str]) -> dict[str, str]:
    path = f"{Path(pg_bin('postgres')).parent}:{os.environ.get('PATH', '/usr/bin:/bin')}"
    return {**os.environ, "PATH": path, **extra}


def sh(script: Path, env: dict[str, str], user: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(script)], env=env, user=user, group=user, cwd="/", capture_output=True, text=True, timeout=120
    )


def psql(port: int, sql: str, user: str = "postgres", db: str = "postgres", password: str | None = None) -> str:
    env = pg_env({"PGPASSWORD": password} if password else {})
    out = subprocess.run(
        [pg_bin("psql") if Path(pg_bin("postgres")).with_name("psql").exists() else "psql",
         "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port), "-U", user, "-d", db,
         "-c", sql],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def wait_until(probe: object, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def is_ready(port: int) -> bool:
    return subprocess.run([pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(port), "-q"], check=False).returncode == 0


@pytest.fixture
def workdir() -> Iterator[Path]:
    path = scratch_dir("pg-render")
    yield path
    remove_tree(path)


def test_rendered_primary_and_standby_replicate(workdir: Path) -> None:
    user = run_as_user()
    inp = RenderInput(
        name="demo",
        namespace="ns",
        uid="u",
        spec=parse_spec({"postgres": {"replicas": 1, "synchronousMode": True, "parameters": {"work_mem": "8MB"}}}),
    )
    confdir = workdir / "config"
    confdir.mkdir()
    for key, text in config.postgres_data(inp).items():
        target = confdir / key
        target.write_text(text.replace(config.PG_CONFIG_DIR, str(confdir)))
        target.chmod(0o755)
    conf = confdir / "postgresql.conf"
    sockets = workdir / "sock"
    sockets.mkdir()
    chown_tree(workdir, user)

    def server(name: str, data: Path, port: int) -> ManagedProcess:
        return ManagedProcess(
            name,
            [pg_bin("postgres"), "-D", str(data), "-c", f"config_file={conf}",
             "-c", f"port={port}", "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={sockets}",
             "-c", f"cluster_name={name}", "-c", "fsync=off"],
            workdir, ready=lambda: is_ready(port), timeout=60, user=user, cwd=Path("/"), stop_signal=2,
        )  # fmt: skip

    primary_port, replica_port = free_port(), free_port()
    primary_data = workdir / "primary"
    subprocess.run(
        [pg_bin("initdb"), "-D", str(primary_data), "-U", "postgres", "--auth=trust", "--no-sync"],
        user=user, group=user, cwd="/", check=True, capture_output=True,
    )  # fmt: skip
    primary = server("demo-postgres-0", primary_data, primary_port).start()
    replica: ManagedProcess | None = None
    try:
        roles_env = pg_env(
            {
                "POSTGRES_USER": "postgres",
                "PGHOST": str(sockets),
                "PGPORT": str(primary_port),
                "REQ1_APP_USER": "req1",
                "REQ1_APP_PASSWORD": APP_PASSWORD,
                "REQ1_APP_DATABASE": "req1",
                "REQ1_REPLICATION_USER": "replicator",
                "REQ1_REPLICATION_PASSWORD": REPL_PASSWORD,
            }
        )
        done = sh(confdir / "init-roles.sh", roles_env, user)
        assert done.returncode == 0, done.stderr
        assert psql(primary_port, "SHOW work_mem") == "8MB"
        assert psql(primary_port, "SHOW wal_level") == "replica"
        assert psql(primary_port, "SHOW synchronous_standby_names") == "ANY 1 (*)"

        replica_data = workdir / "replica" / "pgdata"
        (workdir / "replica").mkdir()
        chown_tree(workdir / "replica", user)
        boot_env = pg_env(
            {
                "PGDATA": str(replica_data),
                "PRIMARY_HOST": "127.0.0.1",
                "PRIMARY_PORT": str(primary_port),
                "REQ1_REPLICATION_USER": "replicator",
                "REQ1_REPLICATION_PASSWORD": REPL_PASSWORD,
            }
        )
        boot = sh(confdir / "replica-bootstrap.sh", boot_env, user)
        assert boot.returncode == 0, boot.stderr
        assert (replica_data / "standby.signal").exists()
        assert "primary_conninfo" in (replica_data / "postgresql.auto.conf").read_text()
        again = sh(confdir / "replica-bootstrap.sh", boot_env, user)  # a restarted pod keeps its data
        assert again.returncode == 0 and "data directory present" in again.stdout

        replica = server("demo-postgres-replica-0", replica_data, replica_port).start()
        wait_until(
            lambda: (
                psql(primary_port, "SELECT application_name || ':' || sync_state FROM pg_stat_replication")
                == "demo-postgres-replica-0:quorum"
            ),
            "the standby to stream as the synchronous (quorum) standby",
        )
        assert psql(replica_port, "SELECT pg_is_in_recovery()") == "t"

        # The app role logs in with its password over TCP and owns its database; writes reach the standby.
        psql(primary_port, "CREATE TABLE t (v int); INSERT INTO t VALUES (42)", user="req1", db="req1",
             password=APP_PASSWORD)  # fmt: skip
        wait_until(lambda: is_ready(replica_port), "standby")
        wait_until(
            lambda: psql(replica_port, "SELECT coalesce((SELECT v FROM t), 0)", db="req1") == "42",
            "the row to replicate",
        )

        # archive_command runs the hook (a no-op until backups exist) without failing.
        psql(primary_port, "SELECT pg_switch_wal()")
        wait_until(lambda: int(psql(primary_port, "SELECT archived_count FROM pg_stat_archiver")) > 0, "WAL archiving")
        assert psql(primary_port, "SELECT failed_count FROM pg_stat_archiver") == "0"
    finally:
        if replica is not None:
            replica.stop()
        primary.stop()
