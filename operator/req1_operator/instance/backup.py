"""Base backups on request: the operator writes ``req1.io/backup-request`` on the pod it chooses (a healthy replica
when there is one), this member runs barman-cloud-backup against its own server and reports the result.

The request is ``{"id": "<unique id>"}``; the backup is named after the id, so the operator (and a restore) can
find it by that name. A request is handled once: the last result, persisted beside PGDATA, carries its
``requestId``. A manager restarted mid-backup reports that attempt ``failed`` ("interrupted"); the operator asks
again with a new id. The backup runs as a background task so the main loop (lease, fencing, promotion) never waits
for it. After a backup on a replica the primary is asked to switch WAL, so the segment that ends the backup is
archived at once and the backup is restorable without waiting for ``archive_timeout``. Before that, the row counts a
restore drill compares against are recorded at a restore point on the primary (drill.py). Retention
(``REQ1_BACKUP_RETENTION_DAYS``) runs after every successful backup, then the catalog of what is kept is reported
(its oldest backup is the first recoverable point).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from typing import Any

import asyncpg

from req1_operator.instance import drill, objectstore
from req1_operator.instance.control import Postgres, ToolError
from req1_operator.instance.kube import ApiError, Kube
from req1_operator.instance.settings import Settings
from req1_operator.instance.statefile import StateFile, utc_now

log = logging.getLogger(__name__)

REQUEST_ANNOTATION = "req1.io/backup-request"
RESULT_FILE = "backup.json"
POLL_INTERVAL = 5.0
BACKUP_LIMIT = 6 * 3600.0


def parse_request(raw: str | None) -> str | None:
    """The request id from the annotation's JSON (``{"id": …}``), or None when absent or malformed."""
    if not raw:
        return None
    try:
        doc = json.loads(raw)
    except ValueError:
        return None
    value = doc.get("id") if isinstance(doc, dict) else None
    return str(value) if value else None


def summarize(show: dict[str, Any]) -> dict[str, Any]:
    """The fields of barman-cloud-backup-show's JSON that the report carries (pure)."""
    values = list(show.values())
    info = values[0] if len(values) == 1 and isinstance(values[0], dict) else show  # {"<server>": {...}}
    return {
        "backupId": info.get("backup_id", ""),
        "name": info.get("backup_name", ""),
        "beginTime": info.get("begin_time_iso", ""),
        "endTime": info.get("end_time_iso", ""),
        "beginWal": info.get("begin_wal", ""),
        "endWal": info.get("end_wal", ""),
        "beginLsn": info.get("begin_xlog", ""),
        "endLsn": info.get("end_xlog", ""),
        "timeline": info.get("timeline", 0),
        "systemIdentifier": str(info.get("systemid", "")),
    }


class Backups:
    """This member's part of base backups: watch for a request, run one at a time, remember the result."""

    def __init__(self, settings: Settings, kube: Kube, pg: Postgres, wake: asyncio.Event) -> None:
        self.s = settings
        self.kube = kube
        self.pg = pg
        self.wake = wake
        self.task: asyncio.Task[None] | None = None
        self.next_poll = 0.0
        self.file = StateFile(settings.state_dir, RESULT_FILE)
        self.result: dict[str, Any] | None = self._load()

    def _load(self) -> dict[str, Any] | None:
        doc = self.file.load()
        if doc is not None and doc.get("phase") == "running":
            doc.update(phase="failed", error="interrupted: the instance manager restarted during the backup")
            self._save(doc)
        return doc

    def _save(self, doc: dict[str, Any]) -> None:
        self.result = doc
        try:
            self.file.save(doc)
        except OSError as exc:
            log.warning("could not persist the backup result: %s", exc)
        self.wake.set()

    async def poll(self, *, server_running: bool, in_recovery: bool) -> None:
        """Called from the main loop: start a requested backup when this member can take one."""
        if self.s.backup is None or (self.task is not None and not self.task.done()) or not server_running:
            return
        t = time.monotonic()
        if t < self.next_poll:
            return
        self.next_poll = t + POLL_INTERVAL
        try:
            request = parse_request((await self.kube.pod_annotations(self.s.pod_name)).get(REQUEST_ANNOTATION))
        except ApiError as exc:
            log.debug("backup request: %s", exc)
            return
        if request is None or (self.result or {}).get("requestId") == request:
            return
        self.task = asyncio.create_task(self.run(request, in_recovery), name="backup")

    async def run(self, request: str, from_replica: bool) -> None:
        assert self.s.backup is not None
        loc = self.s.backup.location
        started = time.monotonic()
        doc: dict[str, Any] = {
            "requestId": request, "phase": "running", "pod": self.s.pod_name, "fromReplica": from_replica,
            "startedAt": utc_now(), "destination": loc.full,
        }  # fmt: skip
        self._save(doc)
        log.info("base backup %s to %s (from a %s)", request, loc.full, "replica" if from_replica else "primary")
        try:
            await self.pg.tool(
                objectstore.backup_argv(loc, host=self.s.socket_dir, port=self.s.pg_port, user=self.s.superuser,
                                        name=request),
                password=self.s.superuser_password, limit=BACKUP_LIMIT,
            )  # fmt: skip
            shown = await self.pg.tool(objectstore.backup_show_argv(loc, request), limit=120)
            doc.update(summarize(json.loads(shown[shown.index("{") :])))
            await self.record_checks(doc, from_replica)
            await self.switch_wal(from_replica)
            doc["sizeBytes"] = await asyncio.to_thread(objectstore.stored_bytes, loc, f"base/{doc['backupId']}/")
            doc.update(phase="completed", completedAt=utc_now(), durationSeconds=round(time.monotonic() - started, 1))
            self._save(doc)
            log.info("base backup %s completed: %s", request, doc.get("backupId"))
            await self.retention()
            await self.catalog()
        except (ToolError, OSError, ValueError) as exc:
            log.error("base backup %s failed: %s", request, exc)
            doc.update(phase="failed", error=str(exc)[-500:], durationSeconds=round(time.monotonic() - started, 1))
            self._save(doc)

    async def _primary(self, from_replica: bool, database: str) -> asyncpg.Connection:
        host, port = (self.s.primary_host, self.s.primary_port) if from_replica else (self.s.socket_dir, self.s.pg_port)
        return await asyncpg.connect(host=host, port=port, user=self.s.superuser, password=self.s.superuser_password,
                                     database=database, timeout=5)  # fmt: skip

    async def record_checks(self, doc: dict[str, Any], from_replica: bool) -> None:
        """What a restore drill compares against (drill.py): row counts at a restore point, beside the backup in S3.
        A backup without it is still a backup: the failure is reported, the drill then checks less."""
        assert self.s.backup is not None
        try:
            conn = await self._primary(from_replica, self.s.app_database)
            try:
                record = await drill.record_checks(conn, str(doc["backupId"]))
            finally:
                with contextlib.suppress(Exception):
                    await conn.close(timeout=2)
            await asyncio.to_thread(objectstore.put_json, self.s.backup.location,
                                    drill.checks_key(str(doc["backupId"])), record)  # fmt: skip
            doc["checks"] = {"restorePoint": record["restorePoint"], "lsn": record["lsn"],
                             "tables": len(record["rowCounts"]), "rows": sum(record["rowCounts"].values())}  # fmt: skip
        except (OSError, asyncpg.PostgresError, TimeoutError, ValueError) as exc:
            log.warning("backup %s: row counts for drills not recorded: %s", doc.get("backupId"), exc)
            doc["checksError"] = str(exc)[-300:]
        except Exception as exc:  # boto3's errors: the backup itself is done
            log.warning("backup %s: row counts for drills not stored: %s", doc.get("backupId"), exc)
            doc["checksError"] = str(exc)[-300:]

    async def switch_wal(self, from_replica: bool) -> None:
        """Close the WAL segment holding the backup's end (and its restore point) on the primary: archived now."""
        try:
            conn = await self._primary(from_replica, "postgres")
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("could not switch WAL after the backup (archive_timeout will): %s", exc)
            return
        try:
            await conn.execute("SELECT pg_switch_wal()")
        finally:
            with contextlib.suppress(Exception):
                await conn.close(timeout=2)

    async def catalog(self) -> None:
        """The backups retention kept (the oldest is the first recoverable point); drop the drill records of the
        ones it deleted."""
        assert self.s.backup is not None
        loc = self.s.backup.location
        try:
            out = await self.pg.tool(objectstore.backup_list_argv(loc), limit=300)
            listed = json.loads(out[out.index("{") :]).get("backups_list") or []
            kept = sorted((b for b in listed if b.get("status") == "DONE"), key=lambda b: str(b.get("backup_id")))
            records = await asyncio.to_thread(objectstore.list_keys, loc, drill.CHECKS_PREFIX)
            ids = {str(b.get("backup_id")) for b in kept}
            stale = [k for k in records if k.removeprefix(drill.CHECKS_PREFIX).removesuffix(".json") not in ids]
            if stale:
                await asyncio.to_thread(objectstore.delete_keys, loc, stale)
        except Exception as exc:  # ToolError, boto3, a listing it cannot parse: the backup stands
            log.warning("could not list the retained backups: %s", exc)
            return
        if self.result is not None and kept:
            oldest = kept[0]
            self._save({**self.result, "catalog": {
                "count": len(kept), "oldestBackupId": str(oldest.get("backup_id")),
                "oldestBeginTime": str(oldest.get("begin_time_iso") or oldest.get("begin_time") or ""),
            }})  # fmt: skip

    async def retention(self) -> None:
        assert self.s.backup is not None
        days = self.s.backup.retention_days
        if days <= 0:
            return
        try:
            await self.pg.tool(objectstore.backup_delete_argv(self.s.backup.location, days), limit=1800)
            if self.result is not None:
                self._save({**self.result, "retention": f"RECOVERY WINDOW OF {days} DAYS", "retentionAt": utc_now()})
        except ToolError as exc:
            log.error("retention (%d days) failed: %s", days, exc)
            if self.result is not None:
                self._save({**self.result, "retentionError": str(exc)[-300:]})

    async def close(self) -> None:
        if self.task is not None and not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task
