"""A JSON document persisted beside PGDATA, so a restarted instance manager resumes where it stopped.

Backups and restores each keep their last result this way; the write goes through a temporary file and a rename
so a crash never leaves half a document behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any


def utc_now() -> str:
    """The timestamp format the status report carries."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class StateFile:
    """One JSON object in ``state_dir/name``; a missing, unreadable or non-object file reads as None."""

    def __init__(self, state_dir: Path, name: str) -> None:
        self.state_dir = state_dir
        self.path = state_dir / name

    def load(self) -> dict[str, Any] | None:
        try:
            doc = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None
        return doc if isinstance(doc, dict) else None

    def save(self, doc: dict[str, Any]) -> None:
        """Replace the document atomically; OSError is the caller's to handle."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self.path)
