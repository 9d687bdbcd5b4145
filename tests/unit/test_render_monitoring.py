"""ServiceMonitor: only when enabled and the CRD exists."""

from __future__ import annotations

from req1_operator.render import RenderInput, api, monitoring
from req1_operator.spec import parse_spec


def make(enabled: bool, crd: bool) -> RenderInput:
    spec = parse_spec({"monitoring": {"serviceMonitor": {"enabled": enabled, "labels": {"release": "prom"}}}})
    return RenderInput(name="demo", namespace="ns", uid="u", spec=spec, monitoring_crd_present=crd)


def test_rendered_when_enabled_and_crd_present() -> None:
    inp = make(True, True)
    (sm,) = monitoring.render(inp)
    assert sm["apiVersion"] == "monitoring.coreos.com/v1"
    assert sm["metadata"]["labels"]["release"] == "prom"
    assert sm["metadata"]["labels"]["app.kubernetes.io/instance"] == "demo"
    assert sm["spec"]["selector"]["matchLabels"] == api.render_service(inp)["spec"]["selector"]
    assert sm["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]


def test_skipped_without_crd_or_when_disabled() -> None:
    assert monitoring.render(make(True, False)) == []
    assert monitoring.render(make(False, True)) == []
