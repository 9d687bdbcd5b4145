"""Restore bootstrap: an empty PGDATA becomes another instance's backup, recovered to a target, then promoted.

Two phases, each persisted beside PGDATA so a restart of the manager lands back in the right one:

- ``downloading``: barman-cloud-restore copies the base backup (named, latest, or — ``latest`` with a target
  time — the newest one that ends before the target) into an emptied PGDATA. Interrupted (the manager killed),
  it starts over into a wiped PGDATA, counting ``attempts`` and keeping the first start, so the recorded duration
  is the whole restore's, not its last attempt's.
- ``recovering``: PostgreSQL runs with ``recovery.signal``, ``restore_command`` = barman-cloud-wal-restore and
  ``recovery_target_time`` (``recovery_target_action = promote``), or with no target it replays every archived
  segment. It promotes by itself on a new timeline; the manager must not promote it earlier, and keeps the
  recovery settings across its own restarts until then.

Then ``completed`` records what was restored: backup, target, timeline, the LSN reached and the duration. Without a
target time PostgreSQL takes a segment missing from the archive for the end of WAL and promotes there; so the end
of recovery is compared with the archive first (walgap.py) and a gap is recorded as ``failed``, not ``completed``.

One mechanism, two users: the bootstrap (``REQ1_RESTORE_*``, ``restore.json``) and the in-place restore of an
existing instance from its own backups (inplace.py, ``inplace-restore.json``), which adds its own keys (the
request, where the old PGDATA waits) to the same persisted document.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from typing import Any

from req1_operator.instance import objectstore, walgap
from req1_operator.instance.control import Postgres, ToolError
from req1_operator.instance.objectstore import RestoreConfig
from req1_operator.instance.settings import Settings
from req1_operator.instance.statefile import StateFile, utc_now

log = logging.getLogger(__name__)

RESULT_FILE = "restore.json"
RESTORE_LIMIT = 12 * 3600.0
BACKUP_ID_LINE = re.compile(r"Restoring from backup_id: (\S+)")


class Restore:
    """One restore into PGDATA: ``cfg`` says from where (default: the bootstrap's ``REQ1_RESTORE_*``)."""

    def __init__(self, settings: Settings, pg: Postgres, cfg: RestoreConfig | None = None, *,
                 file_name: str = RESULT_FILE) -> None:  # fmt: skip
        self.s = settings
        self.pg = pg
        self.cfg = cfg if cfg is not None else settings.restore
        self.file = StateFile(settings.state_dir, file_name)
        self.result: dict[str, Any] | None = self.file.load()

    def _save(self, doc: dict[str, Any]) -> None:
        self.result = doc
        self.file.save(doc)

    def update(self, **fields: Any) -> dict[str, Any]:
        """Add ``fields`` to the persisted document (the in-place restore's own keys and phases)."""
        doc = {**(self.result or {}), **fields}
        self._save(doc)
        return doc

    @property
    def phase(self) -> str:
        return str((self.result or {}).get("phase", ""))

    def wanted(self) -> bool:
        """Bootstrap by restore: configured, and not already done into this volume."""
        return self.cfg is not None and self.phase != "completed"

    @property
    def recovering(self) -> bool:
        return self.phase == "recovering"

    @property
    def interrupted_download(self) -> bool:
        return self.phase == "downloading"

    async def fetch(self) -> None:
        """Download the base backup into an emptied PGDATA and arm recovery (recovery.signal)."""
        cfg = self.cfg
        assert cfg is not None
        before = self.result if self.interrupted_download else None
        kept = {k: v for k, v in (self.result or {}).items() if k not in ("error", "backupId", "downloadSeconds")}
        doc: dict[str, Any] = {
            "startedAt": utc_now(), "startedAtEpoch": time.time(), **kept,
            "phase": "downloading", "source": cfg.location.full, "requestedBackup": cfg.backup_id,
            "targetTime": cfg.target_time, "attempts": 1,
        }  # fmt: skip
        if before is not None:
            doc.update(startedAt=before.get("startedAt", doc["startedAt"]), attempts=int(before.get("attempts", 1)) + 1,
                       startedAtEpoch=float(before.get("startedAtEpoch", doc["startedAtEpoch"])))  # fmt: skip
            log.warning("restore attempt %s: the download before was interrupted; starting over", doc["attempts"])
        self._save(doc)
        self.pg.wipe()
        target = cfg.target_time or "end of WAL"
        log.info("restoring %s backup %s (target %s)", cfg.location.full, cfg.backup_id, target)
        out = await self.pg.tool(objectstore.restore_argv(cfg, self.s.pgdata), limit=RESTORE_LIMIT,
                                 env=objectstore.restore_credentials(cfg))
        found = BACKUP_ID_LINE.search(out)
        doc["backupId"] = found.group(1) if found else cfg.backup_id
        if not (self.s.pgdata / "global" / "pg_control").exists():
            # barman-cloud-restore may exit 0 on a damaged archive; pg_control is a barman backup's last file
            doc["error"] = f"base backup {doc['backupId']} is damaged: its copy lacks global/pg_control"
            self._save(doc)
            raise ToolError(doc["error"])
        (self.s.pgdata / "recovery.signal").touch(mode=0o600)
        (self.s.pgdata / "standby.signal").unlink(missing_ok=True)
        doc["phase"] = "recovering"
        doc["downloadSeconds"] = round(time.time() - doc["startedAtEpoch"], 1)
        self._save(doc)

    async def archive_gap(self, timeline: int) -> str:
        """After the promotion onto ``timeline``, without a target time: why recovery stopped before the archive's
        last segment of the timeline it recovered on, or "" (also when the comparison cannot be made)."""
        cfg = self.cfg
        if cfg is None or cfg.target_time:
            return ""  # a target not reached fails in PostgreSQL itself
        try:
            history = await asyncio.to_thread((self.s.pgdata / "pg_wal" / walgap.history_name(timeline)).read_text)
            parent, _ = walgap.parse_history(history)
            names = await asyncio.to_thread(objectstore.archived_wals, cfg, parent)
        except Exception as exc:  # no history file, the store unreachable, boto3's errors: the restore stands
            log.warning("restore: could not compare the end of recovery with the archive: %s", exc)
            return ""
        why = walgap.gap(history, names)
        if why:
            log.error("restore incomplete: %s", why)
        return why

    def finish(self, timeline: int, lsn: str, error: str = "") -> dict[str, Any]:
        """The restored server has promoted: record what was reached (``failed`` with ``error``: a gap)."""
        doc = dict(self.result or {})
        doc.update(phase="failed" if error else "completed", timeline=timeline, lsn=lsn, completedAt=utc_now(),
                   durationSeconds=round(time.time() - float(doc.get("startedAtEpoch", time.time())), 1))  # fmt: skip
        if error:
            doc["error"] = error[-500:]
        self._save(doc)
        log.info("restore %s: backup %s, timeline %s, LSN %s", doc["phase"], doc.get("backupId"), timeline, lsn)
        return doc

    def failed(self, why: str) -> None:
        if self.result is not None and self.phase != "completed":
            self._save({**self.result, "error": why[-500:]})

    def report(self) -> dict[str, Any] | None:
        """The ``restore`` key of the status report."""
        if self.result is None:
            return None
        return {k: v for k, v in self.result.items() if k != "startedAtEpoch"}
