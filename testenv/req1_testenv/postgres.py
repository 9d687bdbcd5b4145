"""A real PostgreSQL 15 server (Debian's binaries) in its own data directory on a free port.

The postgres binaries refuse to run as root, so when we are root the cluster is owned by, and run
as, the unprivileged ``postgres`` account that Debian's package creates. Servers are configured for
streaming replication from the start, so replicas, WAL archiving and failover can be layered on top.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from req1_testenv.process import ManagedProcess, ServiceStartError, free_port

PG_VERSION = "15"
PG_BIN_DIRS = (Path(f"/usr/lib/postgresql/{PG_VERSION}/bin"),)
SERVICE_USER = "postgres"
SUPERUSER = "postgres"
REPLICATION_USER = "replicator"


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL server binary, preferring the pinned major version."""
    for directory in PG_BIN_DIRS:
        candidate = directory / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ServiceStartError(
            f"PostgreSQL {PG_VERSION} binary {name!r} not found; run `make setup` (apt postgresql-15)"
        )
    return found


def run_as_user() -> str | None:
    """The account to run postgres as: ourselves unless we are root."""
    return SERVICE_USER if os.geteuid() == 0 else None


def chown_tree(path: Path, user: str | None) -> None:
    """Hand a directory tree to the service account (no-op when not root)."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            with contextlib.suppress(FileNotFoundError):
                os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid, follow_symlinks=False)


def run(argv: list[str], user: str | None, env: Mapping[str, str] | None = None) -> str:
    """Run a short PostgreSQL tool, raising with its output when it fails."""
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        user=user,
        group=user,
        env={**os.environ, **(env or {})},
        cwd="/",
        check=False,
    )
    if proc.returncode != 0:
        raise ServiceStartError(f"{' '.join(argv[:2])} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    return proc.stdout


@dataclass
class PostgresServer:
    """One PostgreSQL cluster: ``init()`` once, then ``start()`` / ``stop()``.

    ``conf`` entries are written to postgresql.auto.conf-style include file so callers (WAL
    archiving, synchronous replication) can add settings without touching this class.
    """

    workdir: Path
    port: int = 0
    password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    replication_password: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    conf: dict[str, str] = field(default_factory=dict)
    name: str = "postgres"

    def __post_init__(self) -> None:
        self.workdir = Path(self.workdir)
        if not self.port:
            self.port = free_port()
        self.user = run_as_user()
        self.process = ManagedProcess(
            self.name,
            [pg_bin("postgres"), "-D", str(self.data_dir), "-c", f"config_file={self.data_dir}/postgresql.conf"],
            self.workdir,
            ready=self.is_ready,
            timeout=60,
            user=self.user,
            cwd=Path("/"),
            stop_signal=2,  # SIGINT = fast shutdown: roll back sessions, checkpoint, exit
        )

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def dsn(self) -> str:
        return self.dsn_for("postgres")

    def dsn_for(self, database: str, user: str = SUPERUSER, password: str | None = None) -> str:
        pw = self.password if password is None else password
        return f"postgresql://{user}:{pw}@127.0.0.1:{self.port}/{database}"

    def prepare_workdir(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o700)
        chown_tree(self.workdir, self.user)
        for parent in self.workdir.parents:
            if self.user is None or str(parent) in ("/", "/tmp"):
                break
            # the service account must be able to reach its own directory
            parent.chmod(parent.stat().st_mode | 0o011)

    def init(self) -> PostgresServer:
        """initdb with scram auth, replication enabled, and our settings."""
        self.prepare_workdir()
        pwfile = self.workdir / ".pwfile"
        pwfile.write_text(self.password + "\n")
        pwfile.chmod(0o600)
        chown_tree(self.workdir, self.user)
        run(
            [
                pg_bin("initdb"),
                "-D", str(self.data_dir),
                "-U", SUPERUSER,
                "--pwfile", str(pwfile),
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            self.user,
        )
        pwfile.unlink()
        with (self.data_dir / "pg_hba.conf").open("a") as hba:
            hba.write(f"host replication {REPLICATION_USER} 127.0.0.1/32 scram-sha-256\n")
        self.write_conf()
        return self

    def write_conf(self) -> None:
        """Base settings plus ``conf``, in an include file that is rewritten on every start."""
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.workdir}'",
            "wal_level": "replica",
            "max_wal_senders": "10",
            "max_replication_slots": "10",
            "hot_standby": "on",
            "wal_keep_size": "'128MB'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "'64MB'",
            "max_connections": "200",
            "log_min_messages": "warning",
            "logging_collector": "off",
            **self.conf,
        }
        include = self.data_dir / "req1.conf"
        include.write_text("".join(f"{k} = {v}\n" for k, v in settings.items()))
        main = self.data_dir / "postgresql.conf"
        text = main.read_text()
        if "include_if_exists = 'req1.conf'" not in text:
            main.write_text(text + "\ninclude_if_exists = 'req1.conf'\n")
        chown_tree(self.data_dir, self.user)

    def is_ready(self) -> bool:
        proc = subprocess.run(
            [pg_bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-t", "1"],
            capture_output=True,
            check=False,
        )
        return proc.returncode == 0

    def start(self) -> PostgresServer:
        if not (self.data_dir / "PG_VERSION").exists():
            self.init()
        else:
            self.write_conf()
        self.process.start()
        return self

    def stop(self) -> None:
        self.process.stop(timeout=30)

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through psql as the superuser and return its unaligned output."""
        return run(
            [
                pg_bin("psql") if Path(PG_BIN_DIRS[0] / "psql").exists() else "psql",
                "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", database,
                "-c", sql,
            ],
            None,
            env={"PGPASSWORD": self.password},
        ).strip()

    def create_replication_user(self) -> None:
        self.psql(
            f"DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{REPLICATION_USER}') THEN "
            f"CREATE ROLE {REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD '{self.replication_password}'; "
            f"END IF; END$$;"
        )

    def create_database(self, name: str) -> str:
        """Create an empty database and return its DSN."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.dsn_for(name)

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def start_replica(self, workdir: Path, name: str = "postgres-replica") -> PostgresServer:
        """A streaming hot standby of this server, cloned with pg_basebackup."""
        self.create_replication_user()
        replica = PostgresServer(Path(workdir), password=self.password, name=name,
                                 replication_password=self.replication_password, conf=dict(self.conf))
        replica.prepare_workdir()
        run(
            [
                pg_bin("pg_basebackup"),
                "-h", "127.0.0.1", "-p", str(self.port), "-U", REPLICATION_USER,
                "-D", str(replica.data_dir), "-R", "-X", "stream", "--no-sync", "--checkpoint=fast",
            ],
            replica.user,
            env={"PGPASSWORD": self.replication_password},
        )
        replica.write_conf()
        return replica.start()
