"""Browser end-to-end test: the built UI served by a real req1-server (on the real PostgreSQL,
Redis and SeaweedFS fixtures), driven by playwright-core in Debian's headless Chromium.

Covers login (and a failed one), workspace → project → module navigation, the document view,
reload of a client route (SPA fallback), history, a suspect link marked and cleared, a structural
move, inline create, a 409 edit conflict, search highlights, the baselines page, a comment with a
mention, an attachment uploaded, verified and downloaded, impact, coverage and a traceability matrix
with a suspect cell, the validation report, a refused password change, the users screen, the audit log,
webhooks, a lifecycle move, a notification, an e-signature, an object type created and given to objects
(refused for one without the required attribute) and a change proposal created, moved along its status
graph and applied (a stale one refused at apply), and a workspace member added, given another role and
removed; fails on any console error or CSP violation.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from webenv import ADMIN_PASSWORD, StartServer, needs_browser, node

pytestmark = needs_browser


@pytest.fixture
def server(start_server: StartServer) -> str:
    return start_server()


class Api:
    """Just enough of the API to seed a small module."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token = ""

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        req = urllib.request.Request(  # noqa: S310 (local http)
            f"{self.base}/api/v1{path}", method=method, data=json.dumps(body).encode() if body is not None else None
        )
        if body is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (local http)
            raw = resp.read()
            return json.loads(raw) if raw else None


def seed(base: str) -> dict[str, str]:
    api = Api(base)
    api.token = api.call("POST", "/auth/login", {"email": "admin@localhost", "password": ADMIN_PASSWORD})["token"]
    ws = api.call("POST", "/workspaces", {"name": "Braking Systems"})
    project = api.call("POST", f"/workspaces/{ws['id']}/projects", {"name": "BBW Gen 2"})
    module = api.call("POST", "/modules", {"name": "System Requirements", "project_id": project["id"], "prefix": "SYS"})
    m = module["id"]
    lifecycle = api.call("POST", f"/modules/{m}/lifecycle-models", {
        "name": "Review flow", "initial_state": "draft",
        "states": [{"name": "draft", "color": "#6B7280"}, {"name": "in_review", "color": "#F59E0B"},
                   {"name": "approved", "color": "#10B981"}],
        "transitions": [{"from": "draft", "to": "in_review"}, {"from": "in_review", "to": "approved"},
                        {"from": "in_review", "to": "draft"}]})
    api.call("PATCH", f"/modules/{m}", {"default_lifecycle_model_id": lifecycle["id"]})
    api.call("POST", f"/modules/{m}/attribute-definitions",
             {"name": "priority", "data_type": "enum", "enum_values": ["low", "high"]})
    intro = api.call("POST", f"/modules/{m}/objects", {"heading": "Introduction", "classification": "heading"})
    api.call("POST", f"/modules/{m}/objects", {
        "parent_id": intro["id"], "heading": "Purpose",
        "body": "<p>Specifies the <strong>brake pedal</strong> behaviour.<script>alert(1)</script></p>",
    })
    req = api.call("POST", f"/modules/{m}/objects", {
        "heading": "Pedal travel sensing", "body": "<p>The system shall measure pedal travel.</p>",
        "attributes": {"priority": "high"},
    })
    other = api.call("POST", f"/modules/{m}/objects",
                     {"heading": "Pedal sensor plausibility", "body": "<p>Two sensors.</p>"})
    types = {t["name"]: t["id"] for t in api.call("GET", "/link-types")}
    api.call("POST", "/links", {"source_object_id": other["id"], "target_object_id": req["id"],
                                "link_type_id": types["derives-from"]})
    # Changing the target after linking makes the link suspect.
    api.call("PATCH", f"/modules/{m}/objects/{req['id']}", {"attributes": {"priority": "low"}, "expected_version": 1})
    api.call("POST", f"/modules/{m}/baselines", {"name": "v1.0"})
    # For the mention, traceability matrix and users screens: a reviewer and a test module.
    rita_user = api.call("POST", "/users", {"email": "rita@example.com", "display_name": "Rita Reviewer",
                                            "role": "editor", "password": "rita-password-123"})
    # Per-workspace access: a user created after the workspace sees it once made a member.
    api.call("PUT", f"/workspaces/{ws['id']}/members/{rita_user['id']}", {"role": "editor"})
    # For the members screen: a user of the installation who is not a member yet.
    api.call("POST", "/users", {"email": "vera@example.com", "display_name": "Vera Viewer", "role": "viewer"})
    rita = Api(base)
    rita.token = rita.call("POST", "/auth/login",
                           {"email": "rita@example.com", "password": "rita-password-123"})["token"]
    rita.call("POST", f"/objects/{other['id']}/comments", {"body": "@Administrator is the second sensor needed?"})
    # A review package Rita prepared; approving it needs an e-signature, and not hers (four-eyes).
    api.call("PATCH", f"/modules/{m}", {"signature_config": {
        "require_signature_transitions": ["in_review->approved"], "require_four_eyes": True}})
    package = rita.call("POST", f"/modules/{m}/review-packages", {"name": "Release 1.0 review"})
    for status in ("open", "in_review"):
        rita.call("POST", f"/modules/{m}/review-packages/{package['id']}/transition", {"status": status})
    # A change proposal Rita had approved, whose object was edited afterwards: applying it must be refused.
    stale = rita.call("POST", f"/modules/{m}/change-proposals", {"title": "Stale proposal", "diff_data": [
        {"object_id": intro["id"], "field": "heading", "old_value": "Introduction", "new_value": "Overview"}]})
    rita.call("PATCH", f"/modules/{m}/change-proposals/{stale['id']}", {"status": "approved"})
    api.call("PATCH", f"/modules/{m}/objects/{intro['id']}", {"heading": "Introduction and scope"})
    tests = api.call("POST", "/modules", {"name": "Verification Tests", "project_id": project["id"], "prefix": "TST"})
    check = api.call("POST", f"/modules/{tests['id']}/objects",
                     {"heading": "Check pedal travel", "body": "<p>Press the pedal.</p>"})
    api.call("POST", "/links", {"source_object_id": check["id"], "target_object_id": req["id"],
                                "link_type_id": types["verifies"]})
    return {"workspace": ws["name"], "project": project["name"], "module": module["name"]}


def test_login_and_module_view_in_chromium(server: str, tmp_path: Path) -> None:
    names = seed(server)
    shots = tmp_path / "screenshots"
    res = node("smoke.mjs", "--base", server, "--email", "admin@localhost", "--password", ADMIN_PASSWORD,
               "--workspace", names["workspace"], "--project", names["project"], "--module", names["module"],
               "--shots", str(shots), timeout=240)
    assert res.returncode == 0, f"browser test failed:\n{res.stdout}\n{res.stderr}"
    assert "e2e: ok" in res.stdout
    assert (shots / "03-module.png").stat().st_size > 10_000
