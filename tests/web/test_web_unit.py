"""The web UI's own checks, run from pytest so `make test` covers them.

`npm test` runs the vitest unit tests (API client, rendering helpers, router); the built
index.html is checked against the server's CSP (`script-src 'self'`: no inline scripts).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web"
NPM = shutil.which("npm")

pytestmark = pytest.mark.skipif(NPM is None, reason="npm is not installed (the web UI needs Node.js >= 20.19)")


def _npm(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    assert NPM is not None
    env = {**os.environ, "NO_COLOR": "1", "FORCE_COLOR": "0"}
    return subprocess.run([NPM, *args], cwd=WEB, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def node_modules() -> Path:
    """Install the locked dependencies when `make setup` has not done it yet."""
    if not (WEB / "node_modules" / ".package-lock.json").exists():
        res = _npm("ci", "--no-audit", "--no-fund", "--loglevel=error")
        assert res.returncode == 0, f"npm ci failed:\n{res.stdout}\n{res.stderr}"
    return WEB / "node_modules"


def test_vitest_unit_suite_passes(node_modules: Path) -> None:
    res = _npm("test", "--", "--reporter=dot")
    output = re.sub(r"\x1b\[[0-9;]*m", "", res.stdout + res.stderr)
    assert res.returncode == 0, f"npm test failed:\n{output}"
    passed = re.search(r"Tests\s+(\d+) passed", output)
    assert passed and int(passed.group(1)) > 0, f"vitest ran no tests:\n{output}"


def test_built_index_has_no_inline_script() -> None:
    index = WEB / "dist" / "index.html"
    if not index.exists():
        pytest.skip("web/dist is not built (run `make web-build`)")
    html = index.read_text(encoding="utf-8")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S | re.I)
    assert scripts, "index.html loads no script"
    for attrs, body in scripts:
        assert 'src="/assets/' in attrs, f"script without an /assets/ src: {attrs}"
        assert body.strip() == "", "inline script content is blocked by the CSP"
    assert not re.search(r"\son[a-z]+=", html, flags=re.I), "inline event handler in index.html"
    for ref in re.findall(r'(?:src|href)="(/assets/[^"]+)"', html):
        assert (WEB / "dist" / ref.lstrip("/")).is_file(), f"{ref} is referenced but not built"
    assert not re.search(r'(?:src|href)="https?://', html), "external URL in index.html (no CDN allowed)"
