"""Restore drill: prove the latest base backup restores, in a scratch directory, and check what it restored.

``python -m req1_operator.instance.drill`` runs in a Job of the PostgreSQL image (the operator's CronJob
``<name>-restore-drill``). It restores the latest base backup of ``REQ1_BACKUP_DESTINATION/<ns>/<instance>`` into
``REQ1_DRILL_SCRATCH``, replays archived WAL up to the restore point the backup recorded, starts PostgreSQL there on a
private socket (no TCP, no archiving), and checks it:

- ``amcheck``: ``bt_index_check(index, heapallindexed => true)`` on every B-tree index of the app's database;
- row counts of the app's tables against those recorded when the backup was taken (``checks/<backup id>.json``);
- a random sample of attachments: the copy in the backup destination against the SHA-256 the database holds.

Then it stops PostgreSQL, deletes the scratch and reports ``Passed`` or ``Failed`` with the reason: on stdout, in
``REQ1_DRILL_RESULT_FILE`` (the container's termination message) and as the annotation ``req1.io/drill-result`` of
its own pod, which the operator reads. Exit code 0 passed, 1 failed, 2 misconfigured.

The record the drill compares against is written by the member that took the backup (``record_checks``): on the
primary, the app's tables are locked ``SHARE`` (writers wait, readers do not), counted, and a named restore point
is created, all in one transaction. The counts are therefore exactly those at the restore point, which is after
the backup's end, so the drill recovers to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import asyncpg

from req1_operator.instance import objectstore

log = logging.getLogger(__name__)

CHECKS_PREFIX = "checks/"
RESULT_ANNOTATION = "req1.io/drill-result"
RESTORE_LIMIT = 12 * 3600
#: How long the app's writers may wait behind the lock while the backup's row counts are taken.
LOCK_TIMEOUT = "5s"
TABLES_SQL = """
SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1
"""
MISSED_SEGMENT = re.compile(r"req1-drill: could not restore ([0-9A-F]{24}) ")
INDEXES_SQL = """
SELECT c.oid::regclass::text, c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE am.amname = 'btree' AND i.indisvalid AND i.indisready AND c.relpersistence <> 't'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
ORDER BY 1
"""


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def checks_key(backup_id: str) -> str:
    return f"{CHECKS_PREFIX}{backup_id}.json"


async def record_checks(conn: asyncpg.Connection, backup_id: str) -> dict[str, Any]:
    """On the primary, after the backup: the app's row counts and a restore point, consistent with each other."""
    name = f"req1-drill-{backup_id}"
    tables = [r[0] for r in await conn.fetch(TABLES_SQL)]
    # READ COMMITTED: every count takes its snapshot after the lock, when no writer of these tables is in flight.
    async with conn.transaction():
        await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        if tables:
            await conn.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE MODE")
        counts = {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in tables}
        lsn = str(await conn.fetchval("SELECT pg_create_restore_point($1)::text", name))
    return {"backupId": backup_id, "restorePoint": name, "lsn": lsn, "at": utc_now(), "rowCounts": counts}


# ---------------------------------------------------------------------------------------------- the drill


class DrillFailed(Exception):
    """A check failed: the message is the drill's reason."""


def latest_backup(loc: objectstore.Location) -> str:
    """The newest completed backup's id (barman-cloud-backup-list)."""
    out = _run(objectstore.backup_list_argv(loc), 300)
    listed = json.loads(out[out.index("{") :]).get("backups_list") or []
    done = [b["backup_id"] for b in listed if b.get("status") == "DONE"]
    if not done:
        raise DrillFailed(f"no completed base backup in {loc.full}")
    return str(sorted(done)[-1])


def _run(argv: list[str], limit: float, env: Mapping[str, str] | None = None) -> str:
    full_env = {**os.environ, **objectstore.child_env(), **(env or {})}
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=limit, env=full_env, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-4:]
        raise DrillFailed(f"{Path(argv[0]).name} {' '.join(argv[1:3])} exited {proc.returncode}: " + " | ".join(tail))
    return proc.stdout + proc.stderr


def configure(pgdata: Path, socket_dir: Path, loc: objectstore.Location, restore_point: str | None) -> None:
    """Replace the instance's configuration in the scratch copy: private socket, no archiving, recovery to the
    restore point (or to consistency when the backup recorded none), then promote."""
    target = (f"recovery_target_name = '{restore_point}'" if restore_point else "recovery_target = 'immediate'")
    # PostgreSQL does not log a failed restore_command (a missing file is how it finds the end of WAL): say which.
    restore_command = (objectstore.wal_restore_command(loc) + ' || { rc=$?; echo "req1-drill: could not restore %f '
                       'from the archive (exit $rc)" >&2; exit $rc; }').replace("'", "''")
    # the instance keeps its configuration outside PGDATA: the copy may hold symlinks into a directory not here
    for name in ("postgresql.conf", "postgresql.auto.conf", "pg_hba.conf", "pg_ident.conf"):
        (pgdata / name).unlink(missing_ok=True)
    (pgdata / "pg_ident.conf").write_text("")
    (pgdata / "postgresql.conf").write_text("\n".join([
        "listen_addresses = ''", f"unix_socket_directories = '{socket_dir}'", "archive_mode = off",
        "hot_standby = off", "max_connections = 20", "shared_buffers = 64MB", "fsync = off",
        "logging_collector = off",
        f"restore_command = '{restore_command}'", target, "recovery_target_action = 'promote'", "",
    ]))  # fmt: skip
    (pgdata / "postgresql.auto.conf").write_text("")
    (pgdata / "pg_hba.conf").write_text("local all all trust\n")
    for stale in ("standby.signal", "postmaster.pid", "postmaster.opts"):
        (pgdata / stale).unlink(missing_ok=True)
    (pgdata / "recovery.signal").touch(mode=0o600)


def log_reason(logfile: Path) -> str:
    """Why recovery stopped, from the scratch server's log: the segment it could not restore (history files and
    the probe past the archive's end are normal misses), barman's error, and PostgreSQL's own last errors."""
    try:
        lines = logfile.read_text(errors="replace").splitlines()
    except OSError:
        return "no server log"
    parts: list[str] = []
    missed = [m.group(1) for ln in lines if (m := MISSED_SEGMENT.search(ln))]
    if missed:
        parts.append(f"segment {missed[-1]} could not be restored from the archive")
    parts += [re.sub(r"^.*?(ERROR|FATAL|PANIC|LOG):\s*", r"\1: ", ln) for ln in lines
              if re.search(r"exception|FATAL|PANIC|invalid record|incorrect|checksum", ln, re.IGNORECASE)][-3:]
    return " | ".join(parts) or (lines[-1] if lines else "empty server log")


async def wait_promoted(pgdata: Path, socket_dir: Path, port: int, user: str, limit: float) -> None:
    """Until recovery has reached its target and promoted (``pg_ctl -w`` returns at consistency); a server that
    stops on the way (recovery ended before the target, a corrupt record) raises."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        status = await asyncio.to_thread(subprocess.run, ["pg_ctl", "status", "-D", str(pgdata)],
                                         capture_output=True, check=False)  # fmt: skip
        if status.returncode != 0:
            raise DrillFailed("the server stopped during recovery")
        try:
            conn = await asyncpg.connect(host=str(socket_dir), port=port, user=user, database="postgres", timeout=10)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            await asyncio.sleep(0.5)
            continue
        try:
            if not await conn.fetchval("SELECT pg_is_in_recovery()"):
                return
        finally:
            await conn.close(timeout=5)
        await asyncio.sleep(0.5)
    raise DrillFailed(f"recovery did not finish in {limit:.0f} s")


async def check(socket_dir: Path, port: int, user: str, database: str, recorded: Mapping[str, Any] | None,
                loc: objectstore.Location, sample: int) -> list[str]:  # fmt: skip
    """amcheck, row counts and attachment checksums on the restored server; what passed (raises what failed)."""
    conn = await asyncpg.connect(host=str(socket_dir), port=port, user=user, database=database, timeout=30)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        indexes = await conn.fetch(INDEXES_SQL)
        broken: list[str] = []
        for name, oid in indexes:
            try:
                await conn.execute("SELECT bt_index_check($1::oid::regclass, true)", oid)
            except asyncpg.PostgresError as exc:
                broken.append(f"{name}: {exc}")
        if broken:
            raise DrillFailed(f"amcheck found {len(broken)} corrupt indexes: " + "; ".join(broken[:5]))
        passed = [f"amcheck: {len(indexes)} B-tree indexes intact"]

        if recorded and recorded.get("rowCounts") is not None:
            want: dict[str, int] = {str(k): int(v) for k, v in recorded["rowCounts"].items()}
            got = {t: int(await conn.fetchval(f"SELECT count(*) FROM {t}")) for t in want if await _exists(conn, t)}
            wrong = [f"{t}: {got.get(t, 'missing')} rows, {n} recorded" for t, n in want.items() if got.get(t) != n]
            if wrong:
                raise DrillFailed(f"row counts differ from the backup's record in {len(wrong)} tables: "
                                  + "; ".join(wrong[:5]))  # fmt: skip
            passed.append(f"row counts: {len(want)} tables match the backup's record ({sum(want.values())} rows)")
        else:
            passed.append("row counts: the backup recorded none (taken before drills existed), not compared")

        passed.append(await _attachments(conn, loc, sample))
    finally:
        await conn.close(timeout=5)
    return passed


async def _exists(conn: asyncpg.Connection, table: str) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table))


async def _attachments(conn: asyncpg.Connection, loc: objectstore.Location, sample: int) -> str:
    if sample <= 0 or not await _exists(conn, "public.attachment"):
        return "attachments: not checked"
    if not await asyncio.to_thread(objectstore.list_keys, loc, "attachments/", 1):
        return "attachments: no copy in the backup destination, not checked"
    rows = await conn.fetch("SELECT storage_path, sha256 FROM attachment ORDER BY random() LIMIT $1", sample)
    bad: list[str] = []
    for path, sha in rows:
        data = await asyncio.to_thread(objectstore.read_bytes, loc, path)
        if data is None:
            bad.append(f"{path} missing")
        elif hashlib.sha256(data).hexdigest() != sha:
            bad.append(f"{path} checksum differs")
    if bad:
        raise DrillFailed(f"{len(bad)} of {len(rows)} sampled attachments are damaged: " + "; ".join(bad[:5]))
    return f"attachments: {len(rows)} sampled, checksums match"


def drill(env: Mapping[str, str]) -> dict[str, Any]:
    """Run one drill; the result document (never raises for a failed check)."""
    cfg = objectstore.backup_config(env, env["POD_NAMESPACE"], env["REQ1_INSTANCE"])
    if cfg is None:
        raise objectstore.ObjectStoreError("REQ1_BACKUP_DESTINATION is not set: nothing to drill")
    loc = cfg.location
    scratch = Path(env.get("REQ1_DRILL_SCRATCH") or "/scratch") / f"drill-{os.getpid()}"
    pgdata, socket_dir, logfile = scratch / "pgdata", scratch / "run", scratch / "postgres.log"
    port = int(env.get("REQ1_DRILL_PORT") or 5432)
    started = time.time()
    doc: dict[str, Any] = {"startedAt": utc_now(), "backupId": "", "destination": loc.full}
    running = False
    try:
        backup_id = env.get("REQ1_DRILL_BACKUP_ID") or latest_backup(loc)
        doc["backupId"] = backup_id
        recorded = objectstore.get_json(loc, checks_key(backup_id))
        pgdata.mkdir(mode=0o700, parents=True)
        socket_dir.mkdir(mode=0o700)
        try:
            out = _run(objectstore.restore_argv(objectstore.RestoreConfig(loc, backup_id), pgdata), RESTORE_LIMIT)
            # barman-cloud-restore can exit 0 on a damaged archive, having extracted only what came before the damage;
            # pg_control is the last file of a barman backup, so a cut-short copy lacks it.
            missing = [f for f in ("PG_VERSION", "backup_label", "global/pg_control") if not (pgdata / f).exists()]
            if missing:
                said = [ln for ln in out.splitlines() if re.search(r"error|exception|invalid", ln, re.IGNORECASE)]
                raise DrillFailed(f"{', '.join(missing)} missing from the restored copy"
                                  + (f" ({' | '.join(said[-2:])})" if said else ""))  # fmt: skip
        except DrillFailed as exc:
            raise DrillFailed(f"base backup {backup_id} could not be restored: {exc}") from None
        configure(pgdata, socket_dir, loc, (recorded or {}).get("restorePoint"))
        start = ["pg_ctl", "start", "-D", str(pgdata), "-l", str(logfile), "-w", "-t", str(RESTORE_LIMIT),
                 "-o", f"-p {port}"]  # fmt: skip
        running = True
        user = env.get("POSTGRES_USER") or "postgres"
        try:
            _run(start, RESTORE_LIMIT + 60)
            asyncio.run(wait_promoted(pgdata, socket_dir, port, user, RESTORE_LIMIT))
        except DrillFailed:
            goal = (recorded or {}).get("restorePoint") or "consistency"
            raise DrillFailed(f"WAL replay of {backup_id} stopped before {goal}: {log_reason(logfile)}") from None
        database = env.get("REQ1_APP_DATABASE") or env.get("REQ1_APP_USER") or "req1"
        sample = int(env.get("REQ1_DRILL_ATTACHMENT_SAMPLE") or 20)
        passed = asyncio.run(check(socket_dir, port, user, database, recorded, loc, sample))
        doc.update(result="Passed", reason=f"restored {backup_id}; " + "; ".join(passed))
    except DrillFailed as exc:
        doc.update(result="Failed", reason=str(exc)[:4000])
    except Exception as exc:  # any surprise is a failed drill
        doc.update(result="Failed", reason=f"{type(exc).__name__}: {exc}"[:4000])
    finally:
        if running:
            subprocess.run(["pg_ctl", "stop", "-D", str(pgdata), "-m", "immediate", "-w"], capture_output=True,
                           check=False, timeout=120)  # fmt: skip
        shutil.rmtree(scratch, ignore_errors=True)
    doc.update(finishedAt=utc_now(), durationSeconds=round(time.time() - started, 1))
    return doc


async def annotate(pod: str, namespace: str, doc: Mapping[str, Any]) -> None:
    """The result on the drill's own pod, where the operator's pod watch finds it."""
    from req1_operator.instance.kube import Kube, load_credentials

    kube = Kube(load_credentials(), namespace)
    try:
        await kube.patch_pod_annotations(pod, {RESULT_ANNOTATION: json.dumps(doc, sort_keys=True)})
    finally:
        await kube.close()


def report(doc: Mapping[str, Any], env: Mapping[str, str]) -> None:
    text = json.dumps(doc, sort_keys=True)
    print(text, flush=True)
    path = Path(env.get("REQ1_DRILL_RESULT_FILE") or "/dev/termination-log")
    with contextlib.suppress(OSError):  # outside a container: stdout and the annotation carry it
        path.write_text(text[:4000])
    if env.get("POD_NAME"):
        try:
            asyncio.run(annotate(env["POD_NAME"], env["POD_NAMESPACE"], doc))
        except Exception as exc:  # the exit code and stdout still tell
            log.warning("could not annotate pod %s with the result: %s", env["POD_NAME"], exc)


def main() -> None:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    env = dict(os.environ)
    try:
        doc = drill(env)
    except (KeyError, ValueError) as exc:
        print(f"req1 restore drill: bad settings: {exc}", file=sys.stderr)
        sys.exit(2)
    report(doc, env)
    sys.exit(0 if doc["result"] == "Passed" else 1)


if __name__ == "__main__":
    main()
