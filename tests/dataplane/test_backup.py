"""Backups for real: instance managers (host processes, PostgreSQL 15, the local control plane, as in
test_instance_manager.py) archive WAL with barman-cloud into a SeaweedFS S3 of this module's own, take a base
backup on request, and a new instance bootstraps from those backups to a point in time.

The module's SeaweedFS is its own (not the session's): the outage test stops it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from backup_support import (  # fixtures (s3, namespaces, clusters) are in conftest.py
    BUCKET,
    COLUMNS,
    PREFIX,
    archive_now,
    backup_env,
    keys,
    labels,
    mark_time,
    restore_into,
    take_backup,
    wait_archiving,
    write_batch,
)
from test_instance_manager import APP_PW, INSTANCE, Cluster, bootstrap_pair, query, wait_for

from req1_testenv.seaweedfs import SeaweedS3

pytestmark = pytest.mark.dataplane


def test_archiving_backup_and_point_in_time_restore_across_a_promotion(
    clusters: Callable[..., Cluster], namespaces: Callable[[], str], s3: SeaweedS3
) -> None:
    ns = namespaces()
    c = clusters(ns)
    m0, m1 = bootstrap_pair(c, env=backup_env(s3))
    wal_prefix = f"{PREFIX}/{ns}/{INSTANCE}/wals/"

    # Continuous archiving from the primary, reported in its status; the replica reports none.
    first = archive_now(c, m0)
    arch = c.status(m0.name)["archiving"]
    assert arch["destination"] == f"s3://{BUCKET}/{PREFIX}/{ns}/{INSTANCE}" and arch["failedCount"] == 0
    assert any(k.endswith(f"{first}.gz") for k in keys(s3, wal_prefix)), keys(s3, wal_prefix)
    assert "archiving" not in c.status(m1.name)

    # A base backup on request, taken by the replica the "operator" chose.
    c.core.patch_namespaced_pod(m1.name, ns, {"metadata": {"annotations": {
        "req1.io/backup-request": json.dumps({"id": "b1"})}}})  # fmt: skip
    backup = wait_for(lambda: (c.status(m1.name).get("backup") or {}).get("phase") in ("completed", "failed")
                      and c.status(m1.name)["backup"], "backup b1 to finish", timeout=120, interval=0.5)  # fmt: skip
    assert backup["phase"] == "completed", backup
    # Retention runs after the backup is reported completed, and its outcome is added to the same report.
    backup = wait_for(lambda: (b := c.status(m1.name)["backup"]) and ("retention" in b or "retentionError" in b) and b,
                      "retention after backup b1", timeout=120, interval=0.5)  # fmt: skip
    assert backup["requestId"] == "b1" and backup["name"] == "b1" and backup["fromReplica"] is True
    assert backup["sizeBytes"] > 1_000_000 and backup["beginWal"] and backup["endWal"] >= backup["beginWal"]
    assert backup["backupId"] and backup["durationSeconds"] > 0 and backup["retention"].startswith("RECOVERY WINDOW")
    assert any(f"/base/{backup['backupId']}/" in k for k in keys(s3, f"{PREFIX}/{ns}/{INSTANCE}/base/"))

    # Rows stamped with their time on timeline 1: A before T1, B after it.
    query(m0.pg_port, f"CREATE TABLE events ({COLUMNS})", db="req1", user="req1", password=APP_PW)
    write_batch(m0.pg_port, "A")
    t1 = mark_time()
    write_batch(m0.pg_port, "B")
    archive_now(c, m0)

    # Switchover: the replica promotes on timeline 2; it archives the history file and timeline 2's segments.
    c.set_target(m1.name)
    c.rw.move(m1.pg_port)
    c.wait_status(m1.name, "promoted", timeout=60, role="primary", ready=True, timeline=2)
    c.wait_status(m0.name, "following", timeout=90, role="replica", streaming=True)
    write_batch(m1.pg_port, "C")
    t2 = mark_time()
    write_batch(m1.pg_port, "D")
    segment = archive_now(c, m1)
    assert segment.startswith("00000002")
    stored = keys(s3, wal_prefix)
    assert any(k.endswith("00000002.history.gz") for k in stored), stored
    assert any(k.endswith(f"{segment}.gz") for k in stored)

    # Restore to T2 (latest backup before it; the target is on timeline 2): A, B, C and nothing of D.
    r2, p2, done2 = restore_into(clusters, namespaces(), s3, ns, REQ1_RESTORE_TARGET_TIME=t2)
    assert labels(p2.pg_port) == {"A": 20, "B": 20, "C": 20}
    assert query(p2.pg_port, f"SELECT count(*) FROM events WHERE at > '{t2}'", db="req1") == "0"
    assert done2["backupId"] == backup["backupId"] and done2["targetTime"] == t2.replace("T", " ").replace(
        "Z", "+00:00")  # fmt: skip
    assert done2["timeline"] == 3 and done2["lsn"] and done2["durationSeconds"] > 0

    # Restore the named backup to T1 (timeline 1, before the fork), its manager stopped and started again midway:
    # A only.
    _, p1, done1 = restore_into(clusters, namespaces(), s3, ns, interrupt=True, REQ1_RESTORE_TARGET_TIME=t1,
                                REQ1_RESTORE_BACKUP_ID="b1")  # fmt: skip
    assert labels(p1.pg_port) == {"A": 20}
    # It stops on timeline 1, before the fork, and promotes past every timeline the archive knows (2): 3.
    assert done1["timeline"] == 3 and done1["requestedBackup"] == "b1" and done1["backupId"] == backup["backupId"]

    # The latest backup with no target: every archived segment is replayed, D included.
    _, p3, done3 = restore_into(clusters, namespaces(), s3, ns)
    assert labels(p3.pg_port) == {"A": 20, "B": 20, "C": 20, "D": 20}
    assert done3["targetTime"] == "" and done3["backupId"] == backup["backupId"] and done3["timeline"] == 3

    # The restored instance archives into its own prefix (its new timeline's history file lands there).
    wait_for(lambda: any(k.endswith("00000003.history.gz") for k in keys(s3, f"{PREFIX}/{r2.ns}/{INSTANCE}/wals/")),
             "the restored instance to archive its timeline", timeout=60)  # fmt: skip


def test_s3_outage_keeps_wal_and_catches_up(clusters: Callable[..., Cluster], namespaces: Callable[[], str],
                                            s3: SeaweedS3) -> None:  # fmt: skip
    ns = namespaces()
    c = clusters(ns, replicas=1)
    m0 = c.start(0, env=backup_env(s3))
    c.wait_status(m0.name, "bootstrap", role="primary", ready=True)
    c.set_target(m0.name)
    query(m0.pg_port, f"CREATE TABLE events ({COLUMNS})", db="req1", user="req1", password=APP_PW)
    before = archive_now(c, m0)

    s3.stop()
    try:
        for i in range(3):
            write_batch(m0.pg_port, f"outage{i}")
            query(m0.pg_port, "SELECT pg_switch_wal()")
        arch = wait_archiving(c, m0.name, "failing", timeout=90, ok=False)
        assert arch["lastError"] and arch["lastFailedWal"] > before, arch
        pending = wait_archiving(c, m0.name, "3 segments kept", timeout=30, ok=False)["pendingSegments"]
        assert pending >= 3
        ready = list((Path(c.workdir) / m0.name / "data" / "pgdata" / "pg_wal" / "archive_status").glob("*.ready"))
        assert len(ready) >= 3  # the WAL is still on the primary's disk
    finally:
        s3.start()

    query(m0.pg_port, "SELECT pg_switch_wal()")  # any new segment wakes the archiver (it would on its own in 60 s)
    last = query(m0.pg_port, "SELECT pg_walfile_name(pg_current_wal_lsn())")
    wait_for(lambda: (a := c.status(m0.name).get("archiving") or {}).get("ok") and a["pendingSegments"] == 0,
             "archiving to catch up", timeout=120, interval=0.5)  # fmt: skip
    stored = {k.rsplit("/", 1)[1].removesuffix(".gz") for k in keys(s3, f"{PREFIX}/{ns}/{INSTANCE}/wals/")}
    # Nothing lost: every segment from the first to the last switched one is in the archive.
    first_n, last_n = int(before[8:], 16), int(last[8:], 16)
    expected = {f"00000001{n:016X}" for n in range(first_n, last_n)}
    missing = sorted(expected - stored)
    assert not missing, missing


# ------------------------------------------------------------------------------------------------- pure parts


BASE_ENV = {"REQ1_INSTANCE": "demo", "POD_NAMESPACE": "prod", "POD_NAME": "demo-postgres-0", "POSTGRES_PASSWORD": "p",
            "REQ1_APP_USER": "req1", "REQ1_APP_PASSWORD": "a", "REQ1_REPLICATION_USER": "r",
            "REQ1_REPLICATION_PASSWORD": "r"}  # fmt: skip


def test_settings_read_the_backup_and_restore_contract() -> None:
    from req1_operator.instance import pgconf, settings

    s = settings.load({**BASE_ENV, "REQ1_BACKUP_DESTINATION": "s3://b/req1/", "REQ1_BACKUP_ENDPOINT_URL": "http://s3:8333",
                       "REQ1_BACKUP_RETENTION_DAYS": "7", "REQ1_RESTORE_SOURCE": "s3://b/req1/old/demo",
                       "REQ1_RESTORE_TARGET_TIME": "2026-12-03T07:15:30+01:00"})  # fmt: skip
    assert s.backup is not None and s.restore is not None
    assert s.backup.location.full == "s3://b/req1/prod/demo" and s.backup.retention_days == 7
    assert (s.restore.location.url, s.restore.location.server) == ("s3://b/req1/old", "demo")
    assert s.restore.location.endpoint_url == "http://s3:8333" and s.restore.backup_id == "latest"
    assert s.restore.target_time == "2026-12-03 06:15:30+00:00"
    assert s.state_dir == s.pgdata.parent / "req1"
    cmd = pgconf.archive_command(s)
    assert "req1_operator.instance.walarchive" in cmd and cmd.endswith("s3://b/req1/prod demo %p")
    assert " %f " in cmd and "--endpoint-url http://s3:8333" in cmd and "--gzip" in cmd
    recovery = pgconf.recovery_settings(s)
    assert recovery["restore_command"].endswith("s3://b/req1/old demo %f %p")
    assert (recovery["recovery_target_time"], recovery["recovery_target_action"]) == (s.restore.target_time, "promote")
    off = settings.load(BASE_ENV)
    assert off.backup is None and off.restore is None
    assert pgconf.archive_command(off) == f"{off.config_dir}/archive-wal.sh %p %f"


@pytest.mark.parametrize(("name", "value", "message"), [
    ("REQ1_BACKUP_DESTINATION", "/local/path", "s3:// URL"),
    ("REQ1_BACKUP_RETENTION_DAYS", "7d", "whole number of days"),
    ("REQ1_RESTORE_SOURCE", "s3://bucket", "s3://bucket/"),
    ("REQ1_RESTORE_TARGET_TIME", "2026-12-03 06:00:00", "time zone"),
    ("REQ1_RESTORE_TARGET_TIME", "yesterday", "RFC 3339"),
])  # fmt: skip
def test_malformed_backup_settings_are_refused(name: str, value: str, message: str) -> None:
    from req1_operator.instance import settings

    env = {**BASE_ENV, "REQ1_BACKUP_DESTINATION": "s3://b", "REQ1_RESTORE_SOURCE": "s3://b/x/demo", name: value}
    with pytest.raises(settings.SettingsError, match=message):
        settings.load(env)


def test_restore_picks_the_backup_by_target_time_only_for_latest() -> None:
    from req1_operator.instance import objectstore

    loc = objectstore.Location("s3://b/p", "demo", "")
    t = "2026-12-03 06:00:00+00:00"
    by_time = objectstore.restore_argv(objectstore.RestoreConfig(loc, "latest", t), Path("/d"))
    assert by_time[-4:] == ["s3://b/p", "demo", "auto", "/d"] and "--target-time" in by_time
    named = objectstore.restore_argv(objectstore.RestoreConfig(loc, "b1", t), Path("/d"))
    assert named[-4:] == ["s3://b/p", "demo", "b1", "/d"] and "--target-time" not in named
    assert objectstore.restore_argv(objectstore.RestoreConfig(loc), Path("/d"))[-2:] == ["latest", "/d"]


def test_archiving_health_and_backup_request_parsing() -> None:
    from req1_operator.instance import archiving, backup

    failing = {"failing": True, "last_failed_wal": "000000010000000000000007", "ready": 3, "archived_count": 6}
    report = archiving.health(failing, {"wal": "000000010000000000000007", "error": "Connection refused"}, "s3://x")
    assert report["ok"] is False and report["lastError"] == "Connection refused" and report["pendingSegments"] == 3
    stale = archiving.health(failing, {"wal": "000000010000000000000002", "error": "old"}, "s3://x")
    assert stale["lastError"] == "archive_command failed (see the PostgreSQL log)"
    healthy = archiving.health({"failing": False, "last_archived_wal": "00000001000000000000000A"}, {}, "s3://x")
    assert healthy["ok"] is True and healthy["lastError"] == ""
    assert archiving.significant(healthy) != archiving.significant(report)
    assert backup.parse_request('{"id": "nightly-1"}') == "nightly-1"
    assert backup.parse_request("not json") is None and backup.parse_request('{"id": ""}') is None
    assert backup.parse_request(None) is None and backup.parse_request('["x"]') is None


def test_rendered_archive_hook(s3: SeaweedS3, tmp_path: Path) -> None:
    """archive-wal.sh (the fallback when PostgreSQL runs without the manager): off says so and lets the segment go;
    on archives with barman-cloud-wal-archive, and fails (so PostgreSQL keeps the segment) when it cannot."""
    import subprocess
    import sys

    from req1_operator.render import config

    hook = tmp_path / "archive-wal.sh"
    hook.write_text(config.ARCHIVE_WAL_SH)
    segment = tmp_path / "000000010000000000000003"
    segment.write_bytes(b"\0" * 16 * 1024 * 1024)
    base = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "POD_NAMESPACE": "hook", "REQ1_INSTANCE": "demo"}

    def run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["sh", str(hook), str(segment), segment.name], env={**base, **env}, capture_output=True,
                              text=True, timeout=120, check=False)  # fmt: skip

    off = run({})
    assert off.returncode == 0 and "backups are off" in off.stderr
    on = backup_env(s3)
    assert run(on).returncode == 0, run(on).stderr
    assert keys(s3, f"{PREFIX}/hook/demo/wals/") == [f"{PREFIX}/hook/demo/wals/0000000100000000/{segment.name}.gz"]
    assert run({**on, "AWS_SECRET_ACCESS_KEY": "wrong"}).returncode != 0


def test_retention_deletes_what_the_window_no_longer_needs(
    clusters: Callable[..., Cluster], namespaces: Callable[[], str], s3: SeaweedS3
) -> None:
    """RECOVERY WINDOW OF 7 DAYS after every backup: of two backups made to look 30 and 20 days old, the older one
    and the WAL before the other go; the 20-day one stays (it is where a restore to the window's start begins).
    What is kept restores: a new instance from the 20-day backup by its id replays every archived segment after it
    and has the rows written before it, between it and the next backup, and after the last backup."""
    ns = namespaces()
    c = clusters(ns, replicas=1)
    m0 = c.start(0, env=backup_env(s3))
    c.wait_status(m0.name, "bootstrap", role="primary", ready=True)
    c.set_target(m0.name)
    base = f"{PREFIX}/{ns}/{INSTANCE}"

    def backup(request: str) -> dict[str, Any]:
        c.core.patch_namespaced_pod(m0.name, ns, {"metadata": {"annotations": {
            "req1.io/backup-request": json.dumps({"id": request})}}})  # fmt: skip

        def finished() -> dict[str, Any] | None:
            b = c.status(m0.name).get("backup") or {}
            return b if b.get("requestId") == request and b.get("phase") in ("completed", "failed") else None

        done: dict[str, Any] = wait_for(finished, f"backup {request}", timeout=180, interval=0.5)
        assert done["phase"] == "completed", done
        # retention runs right after and adds its outcome to the same report
        retained: dict[str, Any] = wait_for(lambda: (b := c.status(m0.name)["backup"]).get("requestId") == request
                                            and ("retention" in b or "retentionError" in b) and b,
                                            f"retention after {request}", timeout=180, interval=0.5)  # fmt: skip
        return retained

    def age(backup_id: str, days: int) -> None:
        key = f"{base}/base/{backup_id}/backup.info"
        text = s3.client().get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
        when = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S.000000+00:00")
        lines = [f"{k}={when}" if k in ("begin_time", "end_time") else f"{k}={v}"
                 for k, _, v in (line.partition("=") for line in text.splitlines())]  # fmt: skip
        s3.client().put_object(Bucket=BUCKET, Key=key, Body="\n".join(lines).encode() + b"\n")

    query(m0.pg_port, f"CREATE TABLE events ({COLUMNS})", db="req1", user="req1", password=APP_PW)
    old = backup("old")
    write_batch(m0.pg_port, "before")  # its WAL goes with "old"; only the kept backup's files hold these rows
    archive_now(c, m0)
    mid = backup("mid")
    write_batch(m0.pg_port, "between")  # only in the WAL after the kept backup
    archive_now(c, m0)
    age(old["backupId"], 30)
    age(mid["backupId"], 20)
    new = backup("new")
    assert new["retention"] == "RECOVERY WINDOW OF 7 DAYS" and "retentionError" not in new

    backups = {k.split("/")[-2] for k in keys(s3, f"{base}/base/")}
    assert backups == {mid["backupId"], new["backupId"]}, backups
    wals = sorted(k.rsplit("/", 1)[1].removesuffix(".gz") for k in keys(s3, f"{base}/wals/"))
    segments = [w for w in wals if len(w) == 24]
    assert segments and segments[0] == mid["beginWal"], (mid["beginWal"], wals)  # older WAL deleted, its own kept

    # What retention kept restores: the window's first backup by its id, then every archived segment after it.
    write_batch(m0.pg_port, "after")
    archive_now(c, m0)
    _, r, done = restore_into(clusters, namespaces(), s3, ns, REQ1_RESTORE_BACKUP_ID=mid["backupId"])
    assert done["backupId"] == mid["backupId"] and done["targetTime"] == "", done
    assert labels(r.pg_port) == {"before": 20, "between": 20, "after": 20}


def test_restore_without_a_target_fails_at_a_gap_in_the_archive(
    clusters: Callable[..., Cluster], namespaces: Callable[[], str], s3: SeaweedS3
) -> None:
    """PostgreSQL takes a segment missing from the archive for the end of WAL and promotes there: a restore of
    "every archived segment" with one deleted after the backup must say failed and name it, not completed."""
    ns = namespaces()
    c = clusters(ns, replicas=1)
    m0 = c.start(0, env=backup_env(s3))
    c.wait_status(m0.name, "bootstrap", role="primary", ready=True)
    c.set_target(m0.name)
    query(m0.pg_port, f"CREATE TABLE events ({COLUMNS})", db="req1", user="req1", password=APP_PW)
    backup = take_backup(c, m0.name, "b1")
    closed: list[str] = []
    for label in ("first", "second", "third"):
        write_batch(m0.pg_port, label)
        closed.append(archive_now(c, m0))
    assert closed[0] > backup["endWal"], (backup, closed)
    gone = f"{PREFIX}/{ns}/{INSTANCE}/wals/{closed[1][:16]}/{closed[1]}.gz"
    assert gone in keys(s3, f"{PREFIX}/{ns}/{INSTANCE}/wals/"), gone
    s3.client().delete_object(Bucket=BUCKET, Key=gone)

    r_ns = namespaces()
    rc = clusters(r_ns, replicas=1)
    r = rc.start(0, env=backup_env(s3, REQ1_RESTORE_SOURCE=f"s3://{BUCKET}/{PREFIX}/{ns}/{INSTANCE}"))
    done: dict[str, Any] = wait_for(lambda: (rep := rc.status(r.name).get("restore") or {}).get("phase")
                                    in ("completed", "failed") and rep, "the restore to end", timeout=180,
                                    interval=0.5)  # fmt: skip
    assert done["phase"] == "failed", done
    assert f"segment {closed[1]} is missing or unreadable" in done["error"], done
    assert f"timeline 1 up to {closed[2]}" in done["error"], done
    assert labels(r.pg_port) == {"first": 20}  # what recovery reached before the gap, kept for inspection
