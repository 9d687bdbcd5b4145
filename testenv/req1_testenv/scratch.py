"""Scratch directories for services, reachable by the unprivileged accounts services run as."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path


def scratch_dir(prefix: str) -> Path:
    """A fresh directory under the system temp dir that other local accounts may traverse."""
    path = Path(tempfile.mkdtemp(prefix=f"req1-{prefix}-"))
    path.chmod(0o711)
    return path


def remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
