"""Prometheus Operator ServiceMonitor for the API's /metrics, only when enabled and its CRD is installed."""

from __future__ import annotations

from typing import Any

from req1_operator.render import names
from req1_operator.render.types import RenderInput

SERVICE_MONITOR_CRD = "servicemonitors.monitoring.coreos.com"


def render(inp: RenderInput) -> list[dict[str, Any]]:
    sm = inp.spec.monitoring.service_monitor
    if not sm.enabled or not inp.monitoring_crd_present:
        return []
    meta = names.metadata(inp, names.service_monitor(inp.name), names.MONITORING)
    meta["labels"] = {**sm.labels, **meta["labels"]}
    return [
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": meta,
            "spec": {
                "selector": {"matchLabels": names.selector(inp, names.API)},
                "namespaceSelector": {"matchNames": [inp.namespace]},
                "endpoints": [{"port": "http", "path": "/metrics", "interval": sm.interval}],
            },
        }
    ]
