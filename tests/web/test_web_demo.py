"""The first run of a newcomer: a server seeded like `make up` (SEED_DEMO_DATA, the generated admin),
and `web/e2e/demo.mjs` in headless Chromium following every workspace, project, module, view,
baseline, baseline diff, traceability matrix and object panel of the demo content. Any page error,
console error, error page or failed call fails it, and every API response of the walk is validated
against the server's OpenAPI document (types, not just status codes)."""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

from openapi_check import OpenApiChecker
from webenv import ADMIN_EMAIL, ADMIN_PASSWORD, StartServer, needs_browser, node

pytestmark = needs_browser


def test_demo_walk(start_server: StartServer, tmp_path: Path) -> None:
    base = start_server(SEED_DEMO_DATA="true")
    record = tmp_path / "responses.json"
    res = node("demo.mjs", "--base", base, "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD,
               "--record", str(record), "--shots", str(tmp_path / "shots"), timeout=420)
    walked: dict[str, Any] = json.loads(record.read_text()) if record.exists() else {"visited": [], "responses": []}
    with urllib.request.urlopen(f"{base}/api/docs/openapi.json", timeout=10) as resp:  # noqa: S310 (local http)
        checker = OpenApiChecker(json.loads(resp.read()))
    problems = [p for r in walked["responses"] for p in checker.problems(r["method"], r["url"], r["status"], r["body"])]
    assert res.returncode == 0 and not problems, (
        f"demo walk failed:\n{res.stdout[-4000:]}\n{res.stderr[-4000:]}\n"
        "responses that do not match the OpenAPI document:\n" + "\n".join(problems[:40]))

    kinds = Counter(_kind(path) for path in walked["visited"])
    assert kinds["workspace"] >= 1 and kinds["project"] >= 1 and kinds["module"] >= 2, kinds
    assert kinds["baselines"] >= 2 and kinds["diff"] >= 1 and kinds["traceability"] >= 2, kinds
    assert kinds["object-types"] >= 2 and kinds["proposals"] >= 2 and kinds["members"] >= 1, kinds
    assert checker.checked >= 50, f"only {checker.checked} responses validated"


def _kind(path: str) -> str:
    parts = path.split("?")[0].strip("/").split("/")
    if parts == [""]:
        return "workspaces"
    return {2: "workspace", 4: "project", 6: "module"}.get(len(parts), parts[-1])
