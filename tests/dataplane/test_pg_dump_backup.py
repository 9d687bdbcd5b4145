"""The small-team backup strategy for real: ops/pg-backup.sh (the Compose `backup` service and `make backup` /
`make restore`) against the session's PostgreSQL 15: dumps, retention, the schedule loop, restores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from req1_testenv.postgres import pg_bin
from req1_testenv.pytest_services import S3Bucket

pytestmark = pytest.mark.dataplane

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ops" / "pg-backup.sh"
PG_BIN = str(Path(pg_bin("pg_dump")).parent)


def pg_env(dsn: str) -> dict[str, str]:
    u = urllib.parse.urlsplit(dsn)
    return {"PGHOST": u.hostname or "", "PGPORT": str(u.port), "PGUSER": u.username or "",
            "PGPASSWORD": u.password or "", "PGDATABASE": u.path.lstrip("/")}  # fmt: skip


def sql(dsn: str, statement: str) -> str:
    res = subprocess.run([pg_bin("psql"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement],
                         env={**os.environ, **pg_env(dsn)}, capture_output=True, text=True, check=False)  # fmt: skip
    assert res.returncode == 0, res.stderr
    return res.stdout.strip()


def script(dsn: str, backups: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", str(SCRIPT), *args],
        env={"PATH": "/usr/bin:/bin", **pg_env(dsn), "BACKUP_DIR": str(backups), "PG_BIN": PG_BIN, **env},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def dumps(backups: Path) -> list[str]:
    return sorted(p.name for p in backups.glob("req1-*.dump"))


def test_dump_retention_and_restore(pg_dsn: str, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    backups.mkdir()
    sql(pg_dsn, "CREATE TABLE items (id int PRIMARY KEY, body text); "
                "INSERT INTO items SELECT g, 'row ' || g FROM generate_series(1, 500) g")  # fmt: skip
    month_ago = time.time() - 30 * 86400
    for day in range(1, 6):  # five dumps a month old
        old = backups / f"req1-202601{day:02d}T030000Z.dump"
        old.write_bytes(b"old")
        os.utime(old, (month_ago, month_ago))

    res = script(pg_dsn, backups, "once", BACKUP_KEEP_DAYS="14", BACKUP_KEEP_MIN="3")
    assert res.returncode == 0, res.stderr
    kept = dumps(backups)
    # Retention: three removed for age; two old ones stay because the newest three are always kept.
    assert kept[:2] == ["req1-20260104T030000Z.dump", "req1-20260105T030000Z.dump"] and len(kept) == 3, kept
    new = backups / kept[-1]
    assert new.stat().st_size > 1000 and "removed req1-20260101T030000Z.dump" in res.stderr
    assert (backups / ".last-ok").exists() and not list(backups.glob(".*.partial"))

    # Damage the database, then restore the dump: the table is as it was.
    sql(pg_dsn, "DELETE FROM items WHERE id > 10; UPDATE items SET body = 'changed'")
    res = script(pg_dsn, backups, "restore", str(new))
    assert res.returncode == 0, res.stderr
    assert sql(pg_dsn, "SELECT count(*), count(*) FILTER (WHERE body = 'row ' || id) FROM items") == "500|500"

    # A broken dump changes nothing: one transaction, all or nothing.
    sql(pg_dsn, "DELETE FROM items WHERE id > 100")
    bad = backups / "req1-29990101T000000Z.dump"
    bad.write_bytes(new.read_bytes()[: new.stat().st_size // 2])
    res = script(pg_dsn, backups, "restore", str(bad))
    assert res.returncode != 0
    assert sql(pg_dsn, "SELECT count(*) FROM items") == "100"


def test_loop_dumps_at_start_only_when_no_recent_dump(pg_dsn: str, tmp_path: Path) -> None:
    backups = tmp_path / "backups"
    sql(pg_dsn, "CREATE TABLE items (id int)")
    env = {"PATH": "/usr/bin:/bin", **pg_env(pg_dsn), "BACKUP_DIR": str(backups), "PG_BIN": PG_BIN,
           "BACKUP_AT": time.strftime("%H:%M", time.gmtime(time.time() + 7200))}  # fmt: skip
    for expected in (1, 1):  # first start: a dump; second start within the day: none more
        proc = subprocess.Popen(["sh", str(SCRIPT), "loop"], env=env, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(dumps(backups)) < expected:
                time.sleep(0.2)
            time.sleep(1.0)
            assert len(dumps(backups)) == expected
            assert proc.poll() is None  # still waiting for BACKUP_AT
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)


def test_make_backup_and_restore_on_the_native_stack(pg_dsn: str, tmp_path: Path) -> None:
    """`make backup` / `make restore` read the database from the stack's stack.json, as after `make up`."""
    stack = tmp_path / "stack"
    stack.mkdir()
    (stack / "stack.json").write_text(json.dumps({"env": {"DATABASE_URL": pg_dsn}}))
    backups = tmp_path / "backups"
    sql(pg_dsn, "CREATE TABLE items (id int); INSERT INTO items SELECT generate_series(1, 42)")

    def make(target: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["make", "-s", "-C", str(ROOT), target, f"STACK_DIR={stack}", f"BACKUP_DIR={backups}"],
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip

    res = make("backup")
    assert res.returncode == 0, res.stdout + res.stderr
    assert len(dumps(backups)) == 1
    assert pg_env(pg_dsn)["PGPASSWORD"] not in res.stdout + res.stderr
    sql(pg_dsn, "TRUNCATE items")
    res = make("restore")
    assert res.returncode == 0, res.stdout + res.stderr
    assert sql(pg_dsn, "SELECT count(*) FROM items") == "42"


def s3_env(s3: S3Bucket, prefix: str = "site-a/") -> dict[str, str]:
    """The script's S3 settings for the session's SeaweedFS, as the Compose `backup-s3` service sets them."""
    return {"BACKUP_S3_ENDPOINT": s3.server.endpoint, "BACKUP_S3_BUCKET": s3.name, "BACKUP_S3_PREFIX": prefix,
            "BACKUP_S3_ACCESS_KEY_ID": s3.server.access_key, "BACKUP_S3_SECRET_ACCESS_KEY": s3.server.secret_key,
            "BACKUP_PYTHON": sys.executable}  # fmt: skip


def s3_dumps(s3: S3Bucket, prefix: str = "site-a/") -> list[str]:
    listed = s3.server.client().list_objects_v2(Bucket=s3.name, Prefix=prefix).get("Contents", [])
    return sorted(obj["Key"][len(prefix) :] for obj in listed)


def test_dumps_copied_to_s3_with_retention_and_restored_from_there(
    pg_dsn: str, s3_bucket: S3Bucket, tmp_path: Path
) -> None:
    backups = tmp_path / "backups"
    state = tmp_path / "state"
    state.mkdir()
    sql(pg_dsn, "CREATE TABLE items (id int PRIMARY KEY); INSERT INTO items SELECT generate_series(1, 300)")
    client = s3_bucket.server.client()
    for day in range(1, 6):  # five dumps from January in S3 (retention reads the time in the name)
        client.put_object(Bucket=s3_bucket.name, Key=f"site-a/req1-202601{day:02d}T030000Z.dump", Body=b"old")
    client.put_object(Bucket=s3_bucket.name, Key="elsewhere/req1-20260101T030000Z.dump", Body=b"not ours")

    # S3 unreachable (wrong secret): the dump is still written and kept locally, the command says it failed.
    bad = {**s3_env(s3_bucket), "BACKUP_S3_SECRET_ACCESS_KEY": "wrong", "BACKUP_S3_STATE": str(state)}
    res = script(pg_dsn, backups, "once", **bad)
    assert res.returncode != 0 and len(dumps(backups)) == 1, res.stderr
    assert not (state / ".s3-last-ok").exists() and len(s3_dumps(s3_bucket)) == 5
    first = dumps(backups)[0]

    time.sleep(1.1)  # dump names are to the second
    res = script(pg_dsn, backups, "once", **s3_env(s3_bucket), BACKUP_S3_STATE=str(state), BACKUP_KEEP_MIN="3")
    assert res.returncode == 0, res.stderr
    local = dumps(backups)
    assert len(local) == 2 and local[0] == first
    # Both dumps are in S3 now (the missed one caught up), byte for byte; of the January ones the newest stays
    # (the newest three are kept whatever their age), four went; another prefix is untouched.
    assert s3_dumps(s3_bucket) == ["req1-20260105T030000Z.dump", *local]
    for name in local:
        body = client.get_object(Bucket=s3_bucket.name, Key=f"site-a/{name}")["Body"].read()
        assert body == (backups / name).read_bytes()
    assert res.stderr.count("s3 retention: removed req1-202601") == 4
    assert client.head_object(Bucket=s3_bucket.name, Key="elsewhere/req1-20260101T030000Z.dump")
    assert (state / ".s3-last-ok").exists()
    assert s3_bucket.server.secret_key not in res.stdout + res.stderr

    # Nothing new: s3-sync uploads nothing again; s3-list shows what S3 holds.
    res = script(pg_dsn, backups, "s3-sync", **s3_env(s3_bucket), BACKUP_S3_STATE=str(state))
    assert res.returncode == 0 and "uploaded" not in res.stderr, res.stderr
    res = script(pg_dsn, backups, "s3-list", **s3_env(s3_bucket))
    assert [line.split()[0] for line in res.stdout.splitlines()] == s3_dumps(s3_bucket)

    # The host is lost: fetch the newest dump from S3 into an empty directory and restore it.
    sql(pg_dsn, "DROP TABLE items")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    res = script(pg_dsn, fresh, "s3-fetch", local[-1], **s3_env(s3_bucket))
    assert res.returncode == 0, res.stderr
    assert dumps(fresh) == [local[-1]] and not list(fresh.glob(".*.partial"))
    res = script(pg_dsn, fresh, "restore", str(fresh / local[-1]))
    assert res.returncode == 0, res.stderr
    assert sql(pg_dsn, "SELECT count(*) FROM items") == "300"


def test_s3_is_off_by_default(pg_dsn: str, tmp_path: Path) -> None:
    """Without BACKUP_S3_BUCKET a dump needs neither Python nor boto3, as in the postgres:16 image."""
    sql(pg_dsn, "CREATE TABLE items (id int)")
    res = script(pg_dsn, tmp_path / "b", "once", BACKUP_PYTHON="/nonexistent/python")
    assert res.returncode == 0 and "s3" not in res.stderr, res.stderr
    res = script(pg_dsn, tmp_path / "b", "s3-sync")
    assert res.returncode != 0 and "BACKUP_S3_BUCKET" in res.stderr
