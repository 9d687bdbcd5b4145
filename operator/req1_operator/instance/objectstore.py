"""Where backups live and the barman-cloud command lines that reach them (pure, except ``child_env``).

barman-cloud lays out one "server" per instance under a source URL: ``<url>/<server>/wals/…`` and
``<url>/<server>/base/<backup id>/…``. The manager archives to ``REQ1_BACKUP_DESTINATION/<namespace>/<instance>``, so
two instances sharing a bucket never mix their WAL. A restore reads another instance's full prefix
(``REQ1_RESTORE_SOURCE``), split here into barman's source URL and server name.

The tools run as ``<this interpreter> -m barman.clients.<tool>`` with ``PYTHONPATH`` covering barman and this
package: the manager may run from a venv the ``postgres`` account cannot execute directly (the test bed runs the
system Python with the venv's site-packages), and its children must import exactly what it imports.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: barman-cloud's S3 provider; boto3 reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_DEFAULT_REGION.
PROVIDER = "aws-s3"
#: WAL and base backups are compressed on the way out (gzip: in the standard library, no extra package).
COMPRESSION = "--gzip"
CREDENTIAL_ENV = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_DEFAULT_REGION")
#: A restore source with credentials of its own (another instance's store) while AWS_* open this instance's backups.
RESTORE_CREDENTIAL_ENV = {
    "AWS_ACCESS_KEY_ID": "REQ1_RESTORE_AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY": "REQ1_RESTORE_AWS_SECRET_ACCESS_KEY",
    "AWS_DEFAULT_REGION": "REQ1_RESTORE_AWS_DEFAULT_REGION",
}


class ObjectStoreError(ValueError):
    """A malformed backup or restore variable."""


@dataclass(frozen=True)
class Location:
    """One instance's place in an object store: barman's source URL and server name, and the endpoint."""

    url: str  # s3://bucket[/prefix]
    server: str
    endpoint_url: str = ""

    @property
    def full(self) -> str:
        return f"{self.url.rstrip('/')}/{self.server}"

    def common(self) -> list[str]:
        args = ["--cloud-provider", PROVIDER]
        if self.endpoint_url:
            args += ["--endpoint-url", self.endpoint_url]
        return args


@dataclass(frozen=True)
class BackupConfig:
    """Continuous archiving and base backups of this instance (``REQ1_BACKUP_*``)."""

    location: Location
    retention_days: int = 0  # 0: keep everything


@dataclass(frozen=True)
class RestoreConfig:
    """Bootstrap from another instance's backups (``REQ1_RESTORE_*``), used only while PGDATA is empty."""

    location: Location
    backup_id: str = "latest"  # latest | a backup id | a backup name
    target_time: str = ""  # RFC 3339 to the second, UTC; empty: replay every archived WAL
    own_credentials: bool = False  # REQ1_RESTORE_AWS_* set: the source is read with them, not with AWS_*


def _check_url(name: str, value: str) -> str:
    if not value.startswith("s3://") or len(value) <= len("s3://"):
        raise ObjectStoreError(f"{name} must be an s3:// URL, got {value!r}")
    return value.rstrip("/")


def backup_config(env: Mapping[str, str], namespace: str, instance: str) -> BackupConfig | None:
    dest = env.get("REQ1_BACKUP_DESTINATION", "").strip()
    if not dest:
        return None
    url = f"{_check_url('REQ1_BACKUP_DESTINATION', dest)}/{namespace}"
    raw_days = env.get("REQ1_BACKUP_RETENTION_DAYS", "").strip() or "0"
    if not raw_days.isdigit():
        raise ObjectStoreError(f"REQ1_BACKUP_RETENTION_DAYS must be a whole number of days, got {raw_days!r}")
    endpoint = env.get("REQ1_BACKUP_ENDPOINT_URL", "").strip()
    return BackupConfig(Location(url, instance, endpoint), int(raw_days))


def restore_config(env: Mapping[str, str]) -> RestoreConfig | None:
    source = env.get("REQ1_RESTORE_SOURCE", "").strip()
    if not source:
        return None
    url, _, server = _check_url("REQ1_RESTORE_SOURCE", source).rpartition("/")
    if not url.startswith("s3://") or not server or url == "s3:/":
        raise ObjectStoreError(f"REQ1_RESTORE_SOURCE must be s3://bucket/…/<instance>, got {source!r}")
    endpoint = (env.get("REQ1_RESTORE_ENDPOINT_URL") or env.get("REQ1_BACKUP_ENDPOINT_URL") or "").strip()
    target = env.get("REQ1_RESTORE_TARGET_TIME", "").strip()
    if target:
        target = normalize_time(target)
    backup_id = env.get("REQ1_RESTORE_BACKUP_ID", "").strip() or "latest"
    own = bool(env.get(RESTORE_CREDENTIAL_ENV["AWS_ACCESS_KEY_ID"], "").strip())
    return RestoreConfig(Location(url, server, endpoint), backup_id, target, own)


def restore_credentials(cfg: RestoreConfig, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """AWS_* for the tools that read the restore source: its own keys when it has them, else nothing to change."""
    if not cfg.own_credentials:
        return {}
    source = os.environ if env is None else env
    return {aws: source[own] for aws, own in RESTORE_CREDENTIAL_ENV.items() if source.get(own)}


def normalize_time(value: str) -> str:
    """An RFC 3339 time (``Z`` or an offset; seconds only) as PostgreSQL and barman both read it, in UTC."""
    import datetime as dt

    try:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ObjectStoreError(f"REQ1_RESTORE_TARGET_TIME must be RFC 3339, got {value!r}") from exc
    if t.tzinfo is None:
        raise ObjectStoreError(f"REQ1_RESTORE_TARGET_TIME needs a time zone (Z or an offset), got {value!r}")
    return t.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00:00")


# ---------------------------------------------------------------------------------------------- command lines


def tool(module: str) -> list[str]:
    """``python -m barman.clients.<module>`` with this interpreter (see the module docstring)."""
    return [sys.executable, "-m", f"barman.clients.{module}"]


def wal_archive_argv(loc: Location, wal_path: str) -> list[str]:
    return [*tool("cloud_walarchive"), *loc.common(), COMPRESSION, loc.url, loc.server, wal_path]


def wal_restore_command(loc: Location, own_credentials: bool = False) -> str:
    """restore_command for recovery (``%f %p`` expanded by PostgreSQL); shell-quoted. PostgreSQL runs it through
    the shell, so a source with its own keys gets them from the postmaster's environment by name, never by value
    (no secret is written into postgresql.auto.conf)."""
    import shlex

    argv = [*tool("cloud_walrestore"), *loc.common(), loc.url, loc.server]
    prefix = "".join(f'{aws}="${own}" ' for aws, own in RESTORE_CREDENTIAL_ENV.items()) if own_credentials else ""
    return prefix + " ".join(shlex.quote(a) for a in argv) + " %f %p"


def backup_argv(loc: Location, *, host: str, port: int, user: str, name: str) -> list[str]:
    return [
        *tool("cloud_backup"), *loc.common(), COMPRESSION, "--immediate-checkpoint",
        "-h", host, "-p", str(port), "-U", user, "-d", "postgres", "-n", name, loc.url, loc.server,
    ]  # fmt: skip


def backup_show_argv(loc: Location, backup_id: str) -> list[str]:
    return [*tool("cloud_backup_show"), *loc.common(), "--format", "json", loc.url, loc.server, backup_id]


def backup_list_argv(loc: Location) -> list[str]:
    return [*tool("cloud_backup_list"), *loc.common(), "--format", "json", loc.url, loc.server]


def backup_delete_argv(loc: Location, days: int) -> list[str]:
    return [
        *tool("cloud_backup_delete"), *loc.common(), "--retention-policy", f"RECOVERY WINDOW OF {days} DAYS",
        loc.url, loc.server,
    ]  # fmt: skip


def restore_argv(cfg: RestoreConfig, pgdata: Path) -> list[str]:
    """barman-cloud-restore: a named/latest backup, or (``latest`` with a target time) the newest one before it."""
    loc = cfg.location
    backup = cfg.backup_id
    extra: list[str] = []
    if cfg.target_time and backup == "latest":
        backup, extra = "auto", ["--target-time", cfg.target_time]
    # -v: barman names the backup it chose ("Restoring from backup_id: …") only at INFO
    return [*tool("cloud_restore"), "-v", *loc.common(), *extra, loc.url, loc.server, backup, str(pgdata)]


def child_env() -> dict[str, str]:
    """PYTHONPATH for the tools (and for ``archive_command``): wherever barman and req1_operator are imported from."""
    import importlib.util

    dirs: list[str] = []
    for name in ("req1_operator", "barman"):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue  # barman is absent where backups are not installed; nothing then runs it
        root = str(Path(spec.origin).resolve().parent.parent)
        if root not in dirs:
            dirs.append(root)
    current = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": os.pathsep.join([*dirs, *([current] if current else [])])}


def _client(loc: Location, credentials: Mapping[str, str] | None = None) -> tuple[Any, str, str]:
    """(boto3 client, bucket, key prefix of the instance); boto3 reads the same AWS_* variables barman does, unless
    ``credentials`` (a restore source's own AWS_*) say otherwise."""
    import boto3

    bucket, _, prefix = loc.full.removeprefix("s3://").partition("/")
    own = credentials or {}
    client = boto3.client("s3", endpoint_url=loc.endpoint_url or None, aws_access_key_id=own.get("AWS_ACCESS_KEY_ID"),
                          aws_secret_access_key=own.get("AWS_SECRET_ACCESS_KEY"),
                          region_name=own.get("AWS_DEFAULT_REGION"))  # fmt: skip
    return client, bucket, prefix


def archived_wals(cfg: RestoreConfig, timeline: int) -> list[str]:
    """File names in the restore source's WAL archive for ``timeline`` (barman's ``wals/<TLI><log>/``, any suffix),
    read with the credentials the restore used. Blocking."""
    client, bucket, prefix = _client(cfg.location, restore_credentials(cfg))
    out: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/wals/{timeline:08X}"):
        out += [str(o["Key"]).rsplit("/", 1)[-1] for o in page.get("Contents", [])]
    return out


def stored_bytes(loc: Location, below: str) -> int:
    """Bytes stored under ``<instance>/<below>`` (a backup's size as kept: compressed). Blocking."""
    client, bucket, prefix = _client(loc)
    total = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/{below}"):
        total += sum(int(o["Size"]) for o in page.get("Contents", []))
    return total


def list_keys(loc: Location, below: str, limit: int = 0) -> list[str]:
    """Keys under ``<instance>/<below>``, relative to the instance's prefix (at most ``limit`` if set). Blocking."""
    client, bucket, prefix = _client(loc)
    out: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{prefix}/{below}"):
        out += [str(o["Key"])[len(prefix) + 1 :] for o in page.get("Contents", [])]
        if limit and len(out) >= limit:
            return out[:limit]
    return out


def drop_timeline(loc: Location, timeline: int) -> list[str]:
    """Delete a timeline's history file and segments from this instance's archive (an abandoned promotion); the
    keys deleted. Blocking."""
    if timeline < 2:
        raise ValueError(f"timeline {timeline} is never an abandoned promotion's")
    found = list_keys(loc, f"wals/{timeline:08X}")
    delete_keys(loc, found)
    return found


def put_json(loc: Location, key: str, doc: Mapping[str, Any]) -> None:
    """Write ``<instance>/<key>`` (req1's own records beside barman's). Blocking."""
    client, bucket, prefix = _client(loc)
    client.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=json.dumps(doc, sort_keys=True).encode(),
                      ContentType="application/json")  # fmt: skip


def get_json(loc: Location, key: str) -> dict[str, Any] | None:
    """``<instance>/<key>`` as JSON; None when it does not exist. Blocking."""
    client, bucket, prefix = _client(loc)
    try:
        body = client.get_object(Bucket=bucket, Key=f"{prefix}/{key}")["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    doc = json.loads(body)
    return doc if isinstance(doc, dict) else None


def read_bytes(loc: Location, key: str) -> bytes | None:
    """``<instance>/<key>``'s content; None when it does not exist. Blocking."""
    client, bucket, prefix = _client(loc)
    try:
        data: bytes = client.get_object(Bucket=bucket, Key=f"{prefix}/{key}")["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return data


def delete_keys(loc: Location, keys: list[str]) -> None:
    """Delete ``<instance>/<key>`` for each key. Blocking."""
    client, bucket, prefix = _client(loc)
    for i in range(0, len(keys), 1000):
        batch = [{"Key": f"{prefix}/{k}"} for k in keys[i : i + 1000]]
        client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
