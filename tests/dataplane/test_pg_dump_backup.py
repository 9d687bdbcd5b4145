"""The small-team backup strategy for real: ops/pg-backup.sh (the Compose `backup` service and `make backup` /
`make restore`) against the session's PostgreSQL 15: dumps, retention, the schedule loop, restores."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest

from req1_testenv.postgres import pg_bin

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
