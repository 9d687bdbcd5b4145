"""In-place restore of an existing instance: the contract with the operator, and this member's persisted progress.

The operator writes ``status.restore.inPlace = {"request", "phase", "backupId", "targetTime", …}`` into the
Req1Instance; members act only while its phase is ``restoring``, and each request value at most once. The source is
the instance's own backups (where its WAL archiving and base backups go). Progress lives in
``<volume>/req1/inplace-restore.json``, the same document restore.py keeps for the download and the recovery, plus:

- ``request``, ``role`` (``primary``: the target primary restores; ``replica``: every other member re-clones),
- ``phase``: primary ``stopping`` → ``downloading`` → ``recovering`` → ``completed``, or ``rolling-back`` →
  ``failed``; replica ``waiting`` → ``cloning`` → ``following`` → ``completed`` (or ``failed``: it kept its data),
- ``aside``: where the old PGDATA waits (``<pgdata>.pre-restore-<request>``, a rename on the same volume) until the
  restored server has promoted and ``completed`` has been reported; ``asideRemoved`` once it is deleted,
- ``done``: the requests this member has finished, so none runs twice.

Each member reports ``inPlaceRestore`` in ``req1.io/instance-status`` (``report``).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from req1_operator.instance.control import Postgres
from req1_operator.instance.objectstore import ObjectStoreError, RestoreConfig, normalize_time
from req1_operator.instance.restore import Restore
from req1_operator.instance.settings import Settings
from req1_operator.instance.statefile import utc_now

STATE_FILE = "inplace-restore.json"
ACTIVE = "restoring"  # the operator's phase in which members act
FINAL = ("completed", "failed")
PRIMARY_BUSY = ("stopping", "downloading", "recovering", "rolling-back")
DONE_KEPT = 20


@dataclass(frozen=True)
class InPlaceRequest:
    """``status.restore.inPlace`` as the operator wrote it."""

    request: str
    phase: str
    backup_id: str = ""  # "": the latest (with a target time: the newest backup that ends before it)
    target_time: str = ""  # RFC 3339 as requested; "": the end of the archived WAL
    error: str = ""  # a malformed request: reported failed, never run


def parse_request(status: dict[str, Any] | None) -> InPlaceRequest | None:
    raw = ((status or {}).get("restore") or {}).get("inPlace")
    if not isinstance(raw, dict) or not raw.get("request"):
        return None
    target = str(raw.get("targetTime") or "")
    error = ""
    if target:
        try:
            normalize_time(target)
        except ObjectStoreError as exc:
            error = f"targetTime: {exc}".replace("REQ1_RESTORE_TARGET_TIME", "it")
    return InPlaceRequest(str(raw["request"]), str(raw.get("phase") or ""), str(raw.get("backupId") or ""),
                          target, error)  # fmt: skip


def aside_path(pgdata: Path, request: str) -> Path:
    """Beside PGDATA on the same volume (a rename, not a copy); the request made safe for a file name."""
    return pgdata.with_name(f"{pgdata.name}.pre-restore-{re.sub(r'[^A-Za-z0-9_.-]', '_', request)[:60]}")


def config(s: Settings, doc: dict[str, Any] | None) -> RestoreConfig | None:
    """The restore a primary runs: its own backup location, the requested backup and target (persisted)."""
    if s.backup is None or not doc or doc.get("role") != "primary":
        return None
    return RestoreConfig(s.backup.location, str(doc.get("requestedBackup") or "latest"),
                         str(doc.get("targetTime") or ""))  # fmt: skip


def load(s: Settings, pg: Postgres) -> Restore:
    """This member's in-place restore as persisted (a fresh manager resumes or rolls back from it)."""
    probe = Restore(s, pg, None, file_name=STATE_FILE)
    return Restore(s, pg, config(s, probe.result), file_name=STATE_FILE)


def begin(s: Settings, pg: Postgres, req: InPlaceRequest, role: str, done: list[str], *, has_data: bool) -> Restore:
    """Persist the start of ``req`` on this member, before anything is touched."""
    doc: dict[str, Any] = {
        "request": req.request, "role": role, "phase": "stopping" if role == "primary" else "waiting",
        "requestedTargetTime": req.target_time, "requestedBackup": req.backup_id or "latest",
        "targetTime": normalize_time(req.target_time) if req.target_time and not req.error else "",
        "aside": str(aside_path(s.pgdata, req.request)) if role == "primary" and has_data else "",
        "startedAt": utc_now(), "startedAtEpoch": time.time(), "done": done[-DONE_KEPT:],
    }  # fmt: skip
    r = Restore(s, pg, config(s, doc), file_name=STATE_FILE)
    r.result = None
    r.update(**doc)
    return r


def done_requests(doc: dict[str, Any] | None) -> list[str]:
    """Requests this member has finished (the current one included once it is final)."""
    if not doc:
        return []
    done = [str(d) for d in doc.get("done") or []]
    if doc.get("phase") in FINAL and doc.get("request") and doc["request"] not in done:
        done.append(str(doc["request"]))
    return done


def finished(r: Restore, phase: str, **fields: Any) -> dict[str, Any]:
    doc = r.result or {}
    elapsed = round(time.time() - float(doc.get("startedAtEpoch", time.time())), 1)
    return r.update(phase=phase, completedAt=utc_now(), durationSeconds=elapsed, **fields)


def report(doc: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``inPlaceRestore`` key of the status report: the contract's fields, as they become known."""
    if not doc or not doc.get("request"):
        return None
    phase = doc.get("phase", "")
    out: dict[str, Any] = {"request": doc["request"], "phase": phase if phase in FINAL else ACTIVE, "step": phase,
                           "role": doc.get("role", "")}  # fmt: skip
    for key, source in (("backupId", "backupId"), ("targetTime", "requestedTargetTime"), ("timeline", "timeline"),
                        ("lsn", "lsn"), ("durationSeconds", "durationSeconds"), ("error", "error"),
                        ("startedAt", "startedAt"), ("completedAt", "completedAt")):  # fmt: skip
        if doc.get(source) not in (None, ""):
            out[key] = doc[source]
    return out


def primary_busy(doc: dict[str, Any] | None) -> bool:
    """The target primary is between stopping its server and promoting the restored one (or rolling back)."""
    return doc is not None and doc.get("role") == "primary" and doc.get("phase") in PRIMARY_BUSY


# -- the two copies of PGDATA (blocking: run in a thread)


def move_aside(pgdata: Path, aside: Path) -> bool:
    """Rename PGDATA aside unless that happened already (a resumed step); False when both hold data (refused)."""
    has_data = (pgdata / "PG_VERSION").is_file()
    if aside.exists():
        return not has_data  # moved before a restart; an empty or partial PGDATA is the download's to wipe
    if has_data:
        os.rename(pgdata, aside)
    return True


def put_back(pgdata: Path, aside: Path | None) -> None:
    """The old PGDATA back in place; the restored copy is deleted only while the old one exists."""
    if aside is None:  # there was no data before: none to keep
        shutil.rmtree(pgdata, ignore_errors=True)
        return
    if aside.exists():
        shutil.rmtree(pgdata, ignore_errors=True)
        os.rename(aside, pgdata)


def remove(aside: Path) -> None:
    shutil.rmtree(aside, ignore_errors=True)
