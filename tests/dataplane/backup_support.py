"""Helpers shared by the backup, restore and drill tests (their fixtures are in conftest.py): the backup variables
of the module's SeaweedFS, archiving and writing with time stamps, and a new instance restored from backups."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

from test_instance_manager import APP_PW, INSTANCE, Cluster, Member, query, wait_for

from req1_testenv.seaweedfs import SeaweedS3

COLUMNS = "id bigserial PRIMARY KEY, label text, at timestamptz DEFAULT clock_timestamp()"
BUCKET = "backups"
PREFIX = "req1"


def backup_env(s3: SeaweedS3, **extra: str) -> dict[str, str]:
    return {
        "REQ1_BACKUP_DESTINATION": f"s3://{BUCKET}/{PREFIX}",
        "REQ1_BACKUP_ENDPOINT_URL": s3.endpoint,
        "REQ1_BACKUP_RETENTION_DAYS": "7",
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_DEFAULT_REGION": s3.region,
        **extra,
    }


def keys(s3: SeaweedS3, prefix: str) -> list[str]:
    out: list[str] = []
    for page in s3.client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        out += [o["Key"] for o in page.get("Contents", [])]
    return out


def wait_archiving(c: Cluster, pod: str, what: str, timeout: float = 60, **expect: Any) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        arch = c.status(pod).get("archiving") or {}
        return arch if all(arch.get(k) == v for k, v in expect.items()) else None

    result: dict[str, Any] = wait_for(probe, f"{pod} archiving {what} {expect}", timeout=timeout, interval=0.5)
    return result


def archive_now(c: Cluster, m: Member) -> str:
    """Close the current segment and wait until it (and every one before it) is in the archive."""
    segment = query(m.pg_port, "SELECT pg_walfile_name(pg_current_wal_lsn())")
    query(m.pg_port, "SELECT pg_switch_wal()")

    def done() -> bool:
        arch = c.status(m.name).get("archiving") or {}
        return arch.get("ok") is True and arch.get("lastArchivedWal", "") >= segment and arch["pendingSegments"] == 0

    wait_for(done, f"segment {segment} archived", timeout=90, interval=0.5)
    return segment


def write_batch(port: int, label: str, n: int = 20) -> None:
    query(port, f"INSERT INTO events (label) SELECT '{label}' FROM generate_series(1, {n})", db="req1", user="req1",
          password=APP_PW)  # fmt: skip


def mark_time() -> str:
    """A target time to the second with at least a second of quiet on both sides (commits before, none after)."""
    target = int(time.time()) + 2
    time.sleep(max(0.0, target + 1.2 - time.time()))
    return dt.datetime.fromtimestamp(target, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def labels(port: int) -> dict[str, int]:
    rows = query(port, "SELECT label || '=' || count(*) FROM events GROUP BY label ORDER BY label", db="req1")
    return {k: int(v) for k, v in (line.split("=") for line in rows.splitlines() if line)}


def restore_into(clusters: Callable[..., Cluster], namespace: str, s3: SeaweedS3, source_ns: str,
                 interrupt: bool = False, **restore: str) -> tuple[Cluster, Member, dict[str, Any]]:  # fmt: skip
    """A new instance bootstrapped from ``source_ns``'s backups. ``interrupt``: its manager is stopped (SIGTERM)
    while the restore is under way and started again; the restore must still complete."""
    c = clusters(namespace, replicas=1)
    env = backup_env(s3, REQ1_RESTORE_SOURCE=f"s3://{BUCKET}/{PREFIX}/{source_ns}/{INSTANCE}", **restore)
    m = c.start(0, env=env)
    if interrupt:
        wait_for(lambda: (c.status(m.name).get("restore") or {}).get("phase") in ("downloading", "recovering"),
                 "the restore to begin", timeout=60, interval=0.1)  # fmt: skip
        c.stop(m.name)
        assert (c.status(m.name).get("restore") or {}).get("phase") != "completed"
        c.set_target(m.name)  # the operator names the pod; the Lease taken by the first attempt now exists
        c.start(0, env=env)
    st = c.wait_status(m.name, "restored and promoted", timeout=180, role="primary", ready=True)
    c.set_target(m.name)
    assert st["restore"]["phase"] == "completed", st
    return c, m, st["restore"]





def take_backup(c: Cluster, pod: str, request: str) -> dict[str, Any]:
    """A base backup on ``pod``, asked for as the operator does (``req1.io/backup-request``); its result."""
    c.core.patch_namespaced_pod(pod, c.ns, {"metadata": {"annotations": {
        "req1.io/backup-request": json.dumps({"id": request})}}})  # fmt: skip

    def finished() -> dict[str, Any] | None:
        b = c.status(pod).get("backup") or {}
        return b if b.get("requestId") == request and b.get("phase") in ("completed", "failed") else None

    done: dict[str, Any] = wait_for(finished, f"backup {request} on {pod}", timeout=180, interval=0.5)
    assert done["phase"] == "completed", done
    return done


def request_in_place(c: Cluster, request: str, phase: str = "restoring", **fields: str) -> None:
    """``status.restore.inPlace`` as the operator writes it (``backupId``, ``targetTime``, ``preRestoreBackup``)."""
    c.custom.patch_namespaced_custom_object_status("req1.io", "v1alpha1", c.ns, "req1instances", INSTANCE, {
        "status": {"restore": {"inPlace": {"request": request, "phase": phase, **fields}}}})  # fmt: skip


def wait_in_place(c: Cluster, pod: str, request: str, timeout: float = 180) -> dict[str, Any]:
    """``pod``'s ``inPlaceRestore`` report once it is final (completed or failed) for ``request``."""

    def final() -> dict[str, Any] | None:
        r = c.status(pod).get("inPlaceRestore") or {}
        return r if r.get("request") == request and r.get("phase") in ("completed", "failed") else None

    result: dict[str, Any] = wait_for(final, f"{pod}: in-place restore {request} to end", timeout=timeout,
                                      interval=0.3)  # fmt: skip
    return result
