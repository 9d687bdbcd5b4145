"""Helpers of the browser tests: where the UI, Node and Chromium are, and how to run an e2e script."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Protocol

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NODE = shutil.which("node")
NPM = shutil.which("npm")
ADMIN_EMAIL = "admin@localhost"
ADMIN_PASSWORD = "e2e-admin-password"


class StartServer(Protocol):
    """The conftest fixture: ``start_server(name, **env)`` → base URL; ``stop``/``restart`` by name."""

    def __call__(self, name: str = "server", **env: str) -> str: ...
    def stop(self, name: str) -> None: ...
    def restart(self, name: str) -> None: ...
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


