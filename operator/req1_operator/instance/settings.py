"""The container's environment, read once at start into one typed value (the contract with the operator)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from req1_operator.instance.objectstore import (
    BackupConfig,
    ObjectStoreError,
    RestoreConfig,
    backup_config,
    restore_config,
)

DEFAULT_PGDATA = "/var/lib/postgresql/data/pgdata"
DEFAULT_CONFIG_DIR = "/etc/req1/postgres"
DEFAULT_SOCKET_DIR = "/var/run/postgresql"
DEFAULT_PG_PORT = 5432


class SettingsError(ValueError):
    """A missing or malformed variable: the container cannot do anything useful without it."""


@dataclass(frozen=True)
class Settings:
    pod_name: str
    namespace: str
    instance: str
    pgdata: Path
    superuser: str
    superuser_password: str
    app_user: str
    app_password: str
    app_database: str
    replication_user: str
    replication_password: str
    config_dir: Path
    primary_host: str
    primary_port: int
    lease_seconds: int
    manager_port: int
    pg_port: int
    socket_dir: str
    extra_args: tuple[str, ...] = ()
    backup: BackupConfig | None = None  # REQ1_BACKUP_*: WAL archiving and base backups (docs/backups.md)
    restore: RestoreConfig | None = None  # REQ1_RESTORE_*: bootstrap an empty PGDATA from backups

    # -- names derived from the instance (one place, shared with the operator's renderers by convention)

    @property
    def statefulset(self) -> str:
        return f"{self.instance}-postgres"

    @property
    def lease_name(self) -> str:
        return f"{self.instance}-postgres-primary"

    @property
    def ordinal(self) -> int | None:
        """The StatefulSet ordinal of this pod (``demo-postgres-2`` → 2), None for a pod of another shape."""
        m = re.fullmatch(rf"{re.escape(self.statefulset)}-(\d+)", self.pod_name)
        return int(m.group(1)) if m else None

    @property
    def slot_name(self) -> str:
        return slot_name(self.pod_name)

    @property
    def state_dir(self) -> Path:
        """Beside PGDATA on the same volume: survives a restart and a wipe of PGDATA, never copied by a backup."""
        return self.pgdata.parent / "req1"

    @property
    def fence_after(self) -> float:
        """Seconds without a successful renewal after which a primary stops accepting writes."""
        return max(1.0, self.lease_seconds - 2.0)


def slot_name(pod: str) -> str:
    """The physical replication slot a member streams from: ``req1_<pod>`` with ``-`` → ``_``."""
    return "req1_" + re.sub(r"[^a-z0-9_]", "_", pod.lower())


def _split_host_port(value: str, default_port: int) -> tuple[str, int]:
    """``host`` or ``host:port`` (tests point replicas at 127.0.0.1:<port>; pods use the Service on 5432)."""
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and "]" not in port:
        return host.strip("[]"), int(port)
    return value, default_port


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from exc


def load(env: Mapping[str, str] | None = None, argv: tuple[str, ...] = ()) -> Settings:
    """Settings from the environment; ``argv`` are extra server options passed through to ``postgres``."""
    env = os.environ if env is None else env

    def need(name: str) -> str:
        value = env.get(name, "")
        if not value:
            raise SettingsError(f"{name} is required")
        return value

    instance = need("REQ1_INSTANCE")
    namespace = need("POD_NAMESPACE")
    primary = env.get("REQ1_PRIMARY_SERVICE") or f"{instance}-postgres-rw.{namespace}.svc"
    host, port = _split_host_port(primary, DEFAULT_PG_PORT)
    lease_seconds = _int(env, "REQ1_LEASE_SECONDS", 10)
    pghost = env.get("PGHOST", "")
    try:
        backup = backup_config(env, namespace, instance)
        restore = restore_config(env)
    except ObjectStoreError as exc:
        raise SettingsError(str(exc)) from exc
    if lease_seconds < 3:
        raise SettingsError("REQ1_LEASE_SECONDS must be at least 3 (renewal every 2 s, fencing 2 s before expiry)")
    return Settings(
        pod_name=need("POD_NAME"),
        namespace=namespace,
        instance=instance,
        pgdata=Path(env.get("PGDATA") or DEFAULT_PGDATA),
        superuser=env.get("POSTGRES_USER") or "postgres",
        superuser_password=need("POSTGRES_PASSWORD"),
        app_user=need("REQ1_APP_USER"),
        app_password=need("REQ1_APP_PASSWORD"),
        app_database=env.get("REQ1_APP_DATABASE") or need("REQ1_APP_USER"),
        replication_user=need("REQ1_REPLICATION_USER"),
        replication_password=need("REQ1_REPLICATION_PASSWORD"),
        config_dir=Path(env.get("REQ1_PG_CONFIG_DIR") or DEFAULT_CONFIG_DIR),
        primary_host=host,
        primary_port=port,
        lease_seconds=lease_seconds,
        manager_port=_int(env, "REQ1_MANAGER_PORT", 8010),
        pg_port=_int(env, "PGPORT", DEFAULT_PG_PORT),
        socket_dir=pghost if pghost.startswith("/") else DEFAULT_SOCKET_DIR,
        extra_args=tuple(argv),
        backup=backup,
        restore=restore,
    )
