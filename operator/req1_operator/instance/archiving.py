"""Archiving health for the status report: is WAL reaching the backup destination, and if not, why.

pg_stat_archiver counts attempts; ``walarchive`` leaves the last failure's reason in the state directory. Healthy
means the last attempt succeeded (``lastArchivedAt`` after ``lastFailedAt``). ``pendingSegments`` (``.ready`` files)
is the WAL kept locally while the destination is away; it drains when it returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from req1_operator.instance.pgconf import ARCHIVE_FAILURE_FILE


def last_failure(state_dir: Path) -> dict[str, Any]:
    try:
        doc = json.loads((state_dir / ARCHIVE_FAILURE_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def health(archiver: dict[str, Any], failure: dict[str, Any], destination: str) -> dict[str, Any]:
    """The ``archiving`` key of the report (pure)."""
    ok = not archiver.get("failing")
    report: dict[str, Any] = {
        "ok": ok,
        "destination": destination,
        "lastArchivedWal": archiver.get("last_archived_wal") or "",
        "lastArchivedAt": archiver.get("archived_at") or "",
        "archivedCount": int(archiver.get("archived_count") or 0),
        "failedCount": int(archiver.get("failed_count") or 0),
        "pendingSegments": int(archiver.get("ready") or 0),
        "lastFailedWal": archiver.get("last_failed_wal") or "",
        "lastFailedAt": archiver.get("failed_at") or "",
        "lastError": "",
    }
    if failure and failure.get("wal") == report["lastFailedWal"]:
        report["lastError"] = str(failure.get("error", ""))
    elif not ok:
        report["lastError"] = "archive_command failed (see the PostgreSQL log)"
    return report


def significant(report: dict[str, Any] | None) -> tuple[Any, ...]:
    """What makes a change worth an immediate write: health and its reason (not every archived segment)."""
    if not report:
        return ()
    return (report.get("ok"), report.get("lastError"), report.get("destination"))
