"""The API pods run one worker process per CPU they are given (WEB_WORKERS from api.resources, issue #16)."""

from __future__ import annotations

from typing import Any

from req1_operator.render import RenderInput, api
from req1_operator.spec import parse_spec


def web_workers(spec: dict[str, Any]) -> dict[str, Any]:
    inp = RenderInput(name="demo", namespace="team-a", uid="u-1", spec=parse_spec(spec))
    (c,) = api.render_deployment(inp)["spec"]["template"]["spec"]["containers"]
    (entry,) = [e for e in c["env"] if e["name"] == "WEB_WORKERS"]
    return dict(entry["valueFrom"]["resourceFieldRef"])


def test_workers_follow_the_cpu_limit_else_the_request() -> None:
    assert web_workers({}) == {"resource": "requests.cpu", "divisor": "1"}  # 100m by default: one worker
    assert web_workers({"api": {"resources": {"requests": {"cpu": "500m"}, "limits": {"cpu": "2"}}}}) == {
        "resource": "limits.cpu", "divisor": "1"}
