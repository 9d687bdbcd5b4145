"""Restore drills for real, and restores of a named and of the latest backup into new instances.

Managers run as host processes on PostgreSQL 15 (as in test_backup.py) with the module's own SeaweedFS. The drill
runs as the PostgreSQL account exactly as its Job would (``python -m req1_operator.instance.drill``), against what the
managers archived; the corruptions are made directly in S3.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from backup_support import BUCKET, COLUMNS, PREFIX, archive_now, backup_env, keys, labels, restore_into, write_batch
from test_instance_manager import APP_PW, INSTANCE, ROOT, Cluster, Member, bootstrap_pair, query, wait_for

from req1_testenv.postgres import chown_tree, pg_bin
from req1_testenv.seaweedfs import SeaweedS3

pytestmark = pytest.mark.dataplane

ATTACHMENTS = 4


def request_backup(c: Cluster, m: Member, request: str) -> dict[str, Any]:
    """Ask ``m`` for a backup as the operator does; its report once the catalog (after retention) is in it."""
    c.core.patch_namespaced_pod(m.name, c.ns, {"metadata": {"annotations": {
        "req1.io/backup-request": json.dumps({"id": request})}}})  # fmt: skip

    def done() -> dict[str, Any] | None:
        b = c.status(m.name).get("backup") or {}
        if b.get("requestId") != request:
            return None
        return b if b.get("phase") == "failed" or "catalog" in b else None

    report: dict[str, Any] = wait_for(done, f"backup {request} and its catalog", timeout=180, interval=0.5)
    assert report["phase"] == "completed", report
    return report


def run_drill(c: Cluster, s3: SeaweedS3, pod: str, **extra: str) -> tuple[int, dict[str, Any]]:
    """The drill as its Job runs it: the PostgreSQL account, the backup variables, a scratch directory."""
    scratch = c.workdir / "drill-scratch"
    scratch.mkdir(exist_ok=True)
    chown_tree(scratch, c.user)
    venv_site = next((ROOT / ".venv" / "lib").glob("python3*/site-packages"))
    launcher = (f"import site; site.addsitedir({str(venv_site)!r}); "
                "from req1_operator.instance.drill import main; main()")  # fmt: skip
    python = shutil.which("python3.11", path="/usr/bin") or sys.executable
    env = {
        "PATH": f"{Path(pg_bin('postgres')).parent}:/usr/bin:/bin", "HOME": str(scratch), "LANG": "C.UTF-8",
        "POD_NAME": pod, "POD_NAMESPACE": c.ns, "REQ1_INSTANCE": INSTANCE, "POSTGRES_USER": "postgres",
        "REQ1_APP_DATABASE": "req1", "REQ1_DRILL_SCRATCH": str(scratch), "REQ1_DRILL_RESULT_FILE": "/nonexistent/x",
        "KUBECONFIG": str(c.kubeconfig("drill", c.api_server)), "PYTHONDONTWRITEBYTECODE": "1",
        **backup_env(s3), **extra,
    }  # fmt: skip
    proc = subprocess.run([python, "-c", launcher], env=env, user=c.user, cwd="/", capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    assert proc.stdout.strip(), proc.stderr[-3000:]
    doc: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert list(scratch.iterdir()) == [], "the drill leaves its scratch behind"
    return proc.returncode, doc


def replace_object(s3: SeaweedS3, key: str, change: Callable[[bytes], bytes]) -> bytes:
    """Alter an object in place (as damage would); the original bytes, to put back."""
    original: bytes = s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read()
    s3.client().put_object(Bucket=BUCKET, Key=key, Body=change(original))
    return original


def scramble(data: bytes) -> bytes:
    """Overwrite 4 KiB in the middle of a compressed file: gzip's CRC or its decoder must notice."""
    middle = len(data) // 2
    return data[:middle] + bytes((b ^ 0x5A) for b in data[middle : middle + 4096]) + data[middle + 4096 :]


def test_drills_pass_on_a_good_backup_and_fail_on_damage_in_s3(
    clusters: Callable[..., Cluster], namespaces: Callable[[], str], s3: SeaweedS3
) -> None:
    ns = namespaces()
    c = clusters(ns)
    env = backup_env(s3)
    m0, m1 = bootstrap_pair(c, env=env)
    base = f"{PREFIX}/{ns}/{INSTANCE}"
    app = {"db": "req1", "user": "req1", "password": APP_PW}

    # App data: an indexed table, and attachments whose copies sit in the backup destination.
    query(m0.pg_port, f"CREATE TABLE events ({COLUMNS}); CREATE INDEX events_label ON events (label)", **app)
    query(m0.pg_port, "CREATE TABLE attachment (storage_path text PRIMARY KEY, sha256 text NOT NULL)", **app)
    for i in range(ATTACHMENTS):
        body = f"attachment {i} ".encode() * 1000
        path = f"attachments/o{i}/a{i}"
        s3.client().put_object(Bucket=BUCKET, Key=f"{base}/{path}", Body=body)
        query(m0.pg_port, f"INSERT INTO attachment VALUES ('{path}', '{hashlib.sha256(body).hexdigest()}')", **app)
    write_batch(m0.pg_port, "before", n=500)

    # The backup, taken on the replica, records row counts at a restore point on the primary, beside it in S3.
    c.rw.move(m0.pg_port)
    backup = request_backup(c, m1, "d1")
    assert backup["fromReplica"] is True and "checksError" not in backup, backup
    assert backup["checks"]["restorePoint"] == f"req1-drill-{backup['backupId']}", backup
    recorded = json.loads(s3.client().get_object(Bucket=BUCKET, Key=f"{base}/checks/{backup['backupId']}.json")
                          ["Body"].read())  # fmt: skip
    assert recorded["rowCounts"]["public.events"] == 500 and recorded["rowCounts"]["public.attachment"] == ATTACHMENTS
    assert recorded["rowCounts"]["public.probe"] == 0
    # The catalog after retention: one backup kept, the oldest is this one (the first recoverable point).
    assert backup["catalog"] == {"count": 1, "oldestBackupId": backup["backupId"],
                                 "oldestBeginTime": backup["beginTime"]}, backup  # fmt: skip

    # Rows written after the restore point are not in the comparison: the drill stops at that point.
    write_batch(m0.pg_port, "after", n=7)
    archive_now(c, m0)

    code, good = run_drill(c, s3, m1.name)
    assert (code, good["result"]) == (0, "Passed"), good["reason"]
    assert good["backupId"] == backup["backupId"] and good["durationSeconds"] > 0
    reason = good["reason"]
    assert "amcheck: " in reason and "B-tree indexes intact" in reason, reason
    assert "row counts: 3 tables match" in reason, reason  # events, attachment and probe
    assert f"attachments: {ATTACHMENTS} sampled, checksums match" in reason, reason
    # The result is on the drill's own pod for the operator, exactly as printed.
    annotated = (c.core.read_namespaced_pod(m1.name, ns).metadata.annotations or {}).get("req1.io/drill-result")
    assert annotated is not None and json.loads(annotated) == good

    # A WAL segment between the backup's begin and its restore point, altered in S3: replay stops, and says where.
    wal = next(k for k in keys(s3, f"{base}/wals/") if k.endswith(f"/{backup['beginWal']}.gz"))
    original = replace_object(s3, wal, scramble)
    try:
        code, bad_wal = run_drill(c, s3, m1.name)
    finally:
        s3.client().put_object(Bucket=BUCKET, Key=wal, Body=original)
    assert (code, bad_wal["result"]) == (1, "Failed"), bad_wal
    assert bad_wal["reason"].startswith(f"WAL replay of {backup['backupId']} stopped before "
                                        f"req1-drill-{backup['backupId']}"), bad_wal  # fmt: skip
    assert backup["beginWal"] in bad_wal["reason"], bad_wal  # the segment it could not restore

    # A base-backup file altered in S3: the restore itself fails.
    tarball = f"{base}/base/{backup['backupId']}/data.tar.gz"
    original = replace_object(s3, tarball, scramble)
    try:
        code, bad_base = run_drill(c, s3, m1.name)
    finally:
        s3.client().put_object(Bucket=BUCKET, Key=tarball, Body=original)
    assert (code, bad_base["result"]) == (1, "Failed"), bad_base
    assert bad_base["reason"].startswith(f"base backup {backup['backupId']} could not be restored"), bad_base

    # An attachment's copy altered: its checksum no longer matches the database's.
    damaged = f"{base}/attachments/o0/a0"
    replace_object(s3, damaged, lambda b: b[:-1] + b"!")
    code, bad_attachment = run_drill(c, s3, m1.name)
    assert (code, bad_attachment["result"]) == (1, "Failed"), bad_attachment
    assert "attachments/o0/a0 checksum differs" in bad_attachment["reason"], bad_attachment

    # Row counts that differ from the record (a record of a different moment): named, table by table.
    key = f"{base}/checks/{backup['backupId']}.json"
    s3.client().put_object(Bucket=BUCKET, Key=key, Body=json.dumps(
        {**recorded, "rowCounts": {**recorded["rowCounts"], "public.events": 499}}).encode())  # fmt: skip
    code, bad_counts = run_drill(c, s3, m1.name, REQ1_DRILL_ATTACHMENT_SAMPLE="0")
    assert (code, bad_counts["result"]) == (1, "Failed"), bad_counts
    assert "public.events: 500 rows, 499 recorded" in bad_counts["reason"], bad_counts


def test_restore_of_a_named_and_of_the_latest_backup_into_new_instances(
    clusters: Callable[..., Cluster], namespaces: Callable[[], str], s3: SeaweedS3
) -> None:
    """`spec.restore.backupId` (no target: every archived segment is replayed after it) and the latest backup."""
    ns = namespaces()
    c = clusters(ns, replicas=1)
    m0 = c.start(0, env=backup_env(s3))
    c.wait_status(m0.name, "bootstrap", role="primary", ready=True)
    c.set_target(m0.name)
    query(m0.pg_port, f"CREATE TABLE events ({COLUMNS})", db="req1", user="req1", password=APP_PW)
    write_batch(m0.pg_port, "one")
    first = request_backup(c, m0, "b-one")
    write_batch(m0.pg_port, "two")
    second = request_backup(c, m0, "b-two")
    assert second["catalog"]["count"] == 2 and second["catalog"]["oldestBackupId"] == first["backupId"]
    write_batch(m0.pg_port, "three")
    archive_now(c, m0)

    _, named, done_named = restore_into(clusters, namespaces(), s3, ns, REQ1_RESTORE_BACKUP_ID=first["backupId"])
    assert done_named["backupId"] == first["backupId"] and done_named["requestedBackup"] == first["backupId"]
    assert labels(named.pg_port) == {"one": 20, "two": 20, "three": 20}

    _, latest, done_latest = restore_into(clusters, namespaces(), s3, ns)
    assert done_latest["backupId"] == second["backupId"] and done_latest["requestedBackup"] == "latest"
    assert labels(latest.pg_port) == {"one": 20, "two": 20, "three": 20}
