"""The module grid in headless Chromium, with two users on two `req1-server serve` processes behind one
database (as two API replicas): outline and collapse, inline editing of every attribute type, keyboard-only
create/indent/move/delete with undo, a bulk edit, drag and drop, a version conflict between the sessions,
a view saved and reloaded, live updates from the other session within 2 s and caught up after B's server
was stopped and started again, axe-core and header overlap checks (`web/e2e/grid.mjs`).

The script asks for the restart on stdout (``control: stop-b`` / ``control: start-b``) and waits for a
line on stdin, so the server processes stay in this test's hands."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

from webenv import ADMIN_EMAIL, ADMIN_PASSWORD, CHROMIUM, NODE, WEB, StartServer, needs_browser

pytestmark = needs_browser
EDITOR_EMAIL = "eddie@example.com"
EDITOR_PASSWORD = "eddie-password-123"


class Api:
    def __init__(self, base: str) -> None:
        self.base = base
        self.token = ""

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        req = urllib.request.Request(  # noqa: S310 (local http)
            f"{self.base}/api/v1{path}", method=method, data=json.dumps(body).encode() if body is not None else None)
        if body is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (local http)
            raw = resp.read()
            return json.loads(raw) if raw else None


def seed(base: str) -> str:
    api = Api(base)
    api.token = api.call("POST", "/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})["token"]
    eddie = api.call("POST", "/users", {"email": EDITOR_EMAIL, "display_name": "Eddie Editor", "role": "editor",
                                        "password": EDITOR_PASSWORD})
    ws = api.call("POST", "/workspaces", {"name": "Grid"})
    api.call("PUT", f"/workspaces/{ws['id']}/members/{eddie['id']}", {"role": "editor"})  # per-workspace access
    project = api.call("POST", f"/workspaces/{ws['id']}/projects", {"name": "Grid project"})
    module = api.call("POST", "/modules", {"name": "Grid module", "project_id": project["id"], "prefix": "GRD",
                                      "description": "What the brake pedal shall do, attribute by attribute"})
    m = module["id"]
    definitions: list[dict[str, Any]] = [
        {"name": "priority", "data_type": "enum", "enum_values": ["low", "medium", "high"]},
        {"name": "tags", "data_type": "enum", "enum_values": ["brakes", "safety", "ui"], "multi_select": True},
        {"name": "safety", "data_type": "bool"},
        {"name": "effort", "data_type": "integer"},
        {"name": "weight", "data_type": "float"},
        {"name": "due", "data_type": "date"},
        {"name": "note", "data_type": "string"},
        {"name": "owner", "data_type": "user_ref"},
        {"name": "rationale", "data_type": "rich_text"},
    ]
    for definition in definitions:
        api.call("POST", f"/modules/{m}/attribute-definitions", definition)
    intro = api.call("POST", f"/modules/{m}/objects", {"heading": "Introduction", "classification": "heading"})
    api.call("POST", f"/modules/{m}/objects", {"parent_id": intro["id"], "heading": "Purpose",
                                               "body": "<p>What the pedal does.</p>"})
    api.call("POST", f"/modules/{m}/objects", {"parent_id": intro["id"], "heading": "Scope"})
    api.call("POST", f"/modules/{m}/objects", {"heading": "Pedal travel sensing",
                                               "body": "<p>The system shall measure pedal travel.</p>"})
    api.call("POST", f"/modules/{m}/objects", {"heading": "Pedal sensor plausibility"})
    return f"/w/{ws['id']}/p/{project['id']}/m/{m}"


def test_module_grid_two_users_two_servers(start_server: StartServer, tmp_path: Path) -> None:
    base_a = start_server("server-a")
    base_b = start_server("server-b", RUN_MIGRATIONS="false")
    module_path = seed(base_a)
    assert NODE is not None
    args = [NODE, "e2e/grid.mjs", "--base-a", base_a, "--base-b", base_b, "--module-path", module_path,
            "--email-a", ADMIN_EMAIL, "--password-a", ADMIN_PASSWORD, "--email-b", EDITOR_EMAIL,
            "--password-b", EDITOR_PASSWORD, "--shots", str(tmp_path / "shots"), "--chromium", CHROMIUM]
    out: list[str] = []
    with subprocess.Popen(args, cwd=WEB, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, bufsize=1) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for line in proc.stdout:
            out.append(line)
            if line.startswith("control: "):
                {"control: stop-b": lambda: start_server.stop("server-b"),
                 "control: start-b": lambda: start_server.restart("server-b")}[line.strip()]()
                proc.stdin.write("ok\n")
                proc.stdin.flush()
        code = proc.wait(timeout=300)
    text = "".join(out)
    assert code == 0, f"grid browser test failed:\n{text[-8000:]}"
    assert "grid e2e: ok" in text
    print(text)
