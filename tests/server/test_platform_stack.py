"""`make up` / `make down` in miniature: the native stack with the server, in a scratch directory."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from req1_testenv.scratch import remove_tree, scratch_dir


@pytest.fixture
def stack_dir() -> Iterator[Path]:
    root = scratch_dir("stack-test")
    yield root
    subprocess.run([sys.executable, "-m", "req1_testenv.stack", "down", "--dir", str(root)], check=False,
                   capture_output=True, timeout=120)
    remove_tree(root)


def call(url: str, body: dict[str, str] | None = None) -> tuple[int, str, str]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - http to the local stack
        return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()


@pytest.mark.slow
def test_stack_up_serves_and_down_stops(stack_dir: Path) -> None:
    up = subprocess.run([sys.executable, "-m", "req1_testenv.stack", "up", "--dir", str(stack_dir),
                         "--server-port", "0"], capture_output=True, text=True, timeout=600, check=False)
    assert up.returncode == 0, up.stdout + up.stderr
    state = json.loads((stack_dir / "stack.json").read_text())
    base = f"http://127.0.0.1:{state['server_port']}"
    assert f"req1 is running: http://localhost:{state['server_port']}" in up.stdout
    assert f"login: admin@localhost / {state['admin_password']}" in up.stdout
    status, _, body = call(base + "/health/ready")
    assert status == 200 and json.loads(body)["checks"] == {"database": "ok", "replica": "ok", "redis": "ok",
                                                            "s3": "ok"}
    status, _, body = call(base + "/api/v1/auth/login", {"email": "admin@localhost",
                                                          "password": state["admin_password"]})
    assert status == 200 and json.loads(body)["user"]["role"] == "admin"
    if (Path(__file__).parents[2] / "web" / "dist" / "index.html").exists():
        status, ctype, body = call(base + "/")
        assert status == 200 and ctype.startswith("text/html") and "<html" in body
    again = subprocess.run([sys.executable, "-m", "req1_testenv.stack", "up", "--dir", str(stack_dir)],
                           capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0 and json.loads((stack_dir / "stack.json").read_text())["server_port"] == \
        state["server_port"]
    down = subprocess.run([sys.executable, "-m", "req1_testenv.stack", "down", "--dir", str(stack_dir)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert down.returncode == 0 and "req1-server" in down.stdout
    with pytest.raises(OSError):
        call(base + "/health/live")
    assert not list(stack_dir.glob("*/*.pid"))
