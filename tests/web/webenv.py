"""Helpers of the browser tests: where the UI, Node and Chromium are, and how to run an e2e script."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node")
NPM = shutil.which("npm")
ADMIN_EMAIL = "admin@localhost"
ADMIN_PASSWORD = "e2e-admin-password"
# start_server(name="server", **env) -> base URL (the conftest fixture)
StartServer = Callable[..., str]
needs_browser = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"browser e2e skipped: no Chromium at {CHROMIUM} (apt-get install -y chromium)",
    ),
    pytest.mark.skipif(NODE is None or NPM is None, reason="browser e2e skipped: Node.js/npm not installed"),
]


def npm(*args: str) -> None:
    assert NPM is not None
    res = subprocess.run([NPM, *args], cwd=WEB, capture_output=True, text=True, timeout=600, check=False)
    assert res.returncode == 0, f"npm {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}"


def node(script: str, *args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """Run an e2e script of web/e2e with the system Chromium; the caller asserts on the result."""
    assert NODE is not None
    return subprocess.run([NODE, f"e2e/{script}", *args, "--chromium", CHROMIUM], cwd=WEB, capture_output=True,
                          text=True, timeout=timeout, check=False)


